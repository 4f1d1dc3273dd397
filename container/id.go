package container

// maxIDLen bounds an ID: it names a directory (NAME_MAX is 255) and shows
// up in cgroup paths and logs.
const maxIDLen = 255

// validID is runc's rule: letters, digits, and _ + - . only, so an ID can
// never be a path ("../x", "a/b") or an option ("-x" stays allowed in runc;
// we refuse a leading '-' too, so an ID is never read as a flag). It is
// the regexp ^[A-Za-z0-9_+.][A-Za-z0-9_+.-]*$ written out (package regexp
// stays out of the binary).
func validID(id string) bool {
	if id == "" || id[0] == '-' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '+' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// ValidateID returns an error unless id can name a container.
func ValidateID(id string) error {
	switch {
	case id == "":
		return errorf("container ID is empty")
	case len(id) > maxIDLen:
		return errorf("container ID is %d bytes long, the limit is %d", len(id), maxIDLen)
	case id == "." || id == "..":
		return errorf("invalid container ID %q", id)
	case !validID(id):
		return errorf("invalid container ID %q: only letters, digits and _ + - . are allowed", id)
	}
	return nil
}
