package treepath

import (
	"fmt"
	"strings"
)

// MaxListed is how many offending entries a List names before it only
// counts the rest.
const MaxListed = 20

// List collects offending entries for one error message: all of them
// counted, the first MaxListed named.
type List struct {
	Names []string
	Total int
}

// Add counts one more entry, and names it while there is room.
func (l *List) Add(what string) {
	l.Total++
	if len(l.Names) < MaxListed {
		l.Names = append(l.Names, what)
	}
}

// String is the named entries, then a count of the others.
func (l *List) String() string {
	s := strings.Join(l.Names, ", ")
	if more := l.Total - len(l.Names); more > 0 {
		s += fmt.Sprintf(", and %d more", more)
	}
	return s
}

// Plural is "1 one" or "n many".
func Plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
