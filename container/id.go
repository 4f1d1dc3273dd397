package container

import (
	"fmt"
	"regexp"
)

// maxIDLen bounds an ID: it names a directory (NAME_MAX is 255) and shows
// up in cgroup paths and logs.
const maxIDLen = 255

// validID is runc's rule: letters, digits, and _ + - . only, so an ID can
// never be a path ("../x", "a/b") or an option ("-x" stays allowed in runc;
// we refuse a leading '-' too, so an ID is never read as a flag).
var validID = regexp.MustCompile(`^[A-Za-z0-9_+.][A-Za-z0-9_+.-]*$`)

// ValidateID returns an error unless id can name a container.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("container ID is empty")
	case len(id) > maxIDLen:
		return fmt.Errorf("container ID is %d bytes long, the limit is %d", len(id), maxIDLen)
	case id == "." || id == "..":
		return fmt.Errorf("invalid container ID %q", id)
	case !validID.MatchString(id):
		return fmt.Errorf("invalid container ID %q: only letters, digits and _ + - . are allowed", id)
	}
	return nil
}
