package signing

import "strings"

// PolicyError is a Policy that cannot verify anything as it stands: what
// is wrong, and the Policy fields that would settle it, so that a caller
// can point at its own names for them (a CLI at its flags).
type PolicyError struct {
	Problem string   // what is wrong, in words
	Fields  []string // Policy fields, setting any one of which settles it; none when the fix is to unset one
}

func (e *PolicyError) Error() string {
	msg := "verification policy: " + e.Problem
	if len(e.Fields) > 0 {
		msg += " (set " + strings.Join(e.Fields, " or ") + ")"
	}
	return msg
}

func policyError(problem string, fields ...string) error {
	return &PolicyError{Problem: problem, Fields: fields}
}

// NoTlogEntryError is a key signature without the transparency-log entry
// the policy requires. Field names the Policy field that accepts one, so
// that a caller can point at its own name for it, as with PolicyError.
type NoTlogEntryError struct{}

// Field is the Policy field that accepts key signatures without a log entry.
func (*NoTlogEntryError) Field() string { return "InsecureIgnoreTlog" }

func (e *NoTlogEntryError) Error() string { return e.Explain("set " + e.Field()) }

// Explain says what is wrong and how to accept it, in the caller's words
// for setting the Field ("pass --insecure-ignore-tlog").
func (*NoTlogEntryError) Explain(how string) string {
	return "the signature has no transparency-log entry; " + how + " to accept key signatures without one"
}
