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
