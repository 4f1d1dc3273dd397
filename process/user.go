package process

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// maxID is the largest uid or gid we accept: ids are 32-bit, and -1
// ((uid_t)-1) means "unchanged" to setresuid(2), so stay below 2^31 like
// runc's user package.
const maxID = 1<<31 - 1

// passwdEntry is one line of /etc/passwd (passwd(5)).
type passwdEntry struct {
	Name     string
	UID, GID uint32
	Home     string
}

// groupEntry is one line of /etc/group (group(5)).
type groupEntry struct {
	Name    string
	GID     uint32
	Members []string
}

// execUser is who the program runs as.
type execUser struct {
	UID, GID uint32
	Groups   []uint32
	Home     string
}

// ResolveUser resolves spec ("name", "uid", "name:group", "uid:gid")
// against root's /etc/passwd and /etc/group as runc's user package does
// (GetExecUser): names must exist; numbers need not; a user found in
// /etc/passwd gets its primary gid and home from there and, unless a
// group was given, its supplementary groups from /etc/group. groups
// (names or numbers) are added. root is read with securejoin, so a
// symlink in the rootfs cannot point at the host's files.
func ResolveUser(root, spec string, groups []string) (uid, gid uint32, sgids []uint32, home string, err error) {
	u, err := resolveUser(root, spec, specs.User{}, groups)
	if err != nil {
		return 0, 0, nil, "", err
	}
	return u.UID, u.GID, u.Groups, u.Home, nil
}

func resolveUser(root, spec string, base specs.User, extra []string) (*execUser, error) {
	passwd, err := readPasswd(root)
	if err != nil {
		return nil, err
	}
	group, err := readGroup(root)
	if err != nil {
		return nil, err
	}
	u := &execUser{UID: base.UID, GID: base.GID, Home: "/"}
	var pw *passwdEntry
	groupGiven := false
	if spec == "" {
		pw = findPasswd(passwd, "", base.UID, true)
	} else {
		userPart, groupPart, hasGroup := strings.Cut(spec, ":")
		if pw, u.UID, err = lookupUser(passwd, userPart); err != nil {
			return nil, err
		}
		u.GID = 0
		if pw != nil {
			u.GID = pw.GID
		}
		if hasGroup {
			groupGiven = true
			if u.GID, err = lookupGroup(group, groupPart); err != nil {
				return nil, err
			}
		}
	}
	if pw != nil {
		u.Home = pw.Home
		if spec != "" && !groupGiven {
			u.Groups = memberOf(group, pw.Name)
		}
	}
	u.Groups = append(u.Groups, base.AdditionalGids...)
	for _, g := range extra {
		gid, err := lookupGroup(group, g)
		if err != nil {
			return nil, err
		}
		u.Groups = append(u.Groups, gid)
	}
	u.Groups = dedup(u.Groups)
	return u, nil
}

// lookupUser: a name must be in /etc/passwd; a number may be, or not.
func lookupUser(passwd []passwdEntry, s string) (*passwdEntry, uint32, error) {
	if s == "" {
		return nil, 0, errors.New("user: empty user name")
	}
	if id, ok, err := parseID(s); ok || err != nil {
		if err != nil {
			return nil, 0, fmt.Errorf("user %q: %w", s, err)
		}
		return findPasswd(passwd, "", id, true), id, nil
	}
	pw := findPasswd(passwd, s, 0, false)
	if pw == nil {
		return nil, 0, fmt.Errorf("user %q: no such user in the container's /etc/passwd", s)
	}
	return pw, pw.UID, nil
}

func lookupGroup(group []groupEntry, s string) (uint32, error) {
	if s == "" {
		return 0, errors.New("group: empty group name")
	}
	if id, ok, err := parseID(s); ok || err != nil {
		if err != nil {
			return 0, fmt.Errorf("group %q: %w", s, err)
		}
		return id, nil
	}
	for _, g := range group {
		if g.Name == s {
			return g.GID, nil
		}
	}
	return 0, fmt.Errorf("group %q: no such group in the container's /etc/group", s)
}

// parseID: ok is false for a name; err is set for a number out of range.
func parseID(s string) (id uint32, ok bool, err error) {
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false, nil
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > maxID {
		return 0, true, fmt.Errorf("id %s out of range 0..%d", s, maxID)
	}
	return uint32(n), true, nil
}

func findPasswd(passwd []passwdEntry, name string, uid uint32, byUID bool) *passwdEntry {
	for i, p := range passwd {
		if (byUID && p.UID == uid) || (!byUID && p.Name == name) {
			return &passwd[i]
		}
	}
	return nil
}

func memberOf(group []groupEntry, name string) []uint32 {
	var gids []uint32
	for _, g := range group {
		for _, m := range g.Members {
			if m == name {
				gids = append(gids, g.GID)
			}
		}
	}
	return gids
}

func dedup(ids []uint32) []uint32 {
	seen := map[uint32]bool{}
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// readPasswd parses root/etc/passwd; a missing file is an empty one (a
// scratch image has none, and numeric users still work).
func readPasswd(root string) ([]passwdEntry, error) {
	var out []passwdEntry
	err := readColonFile(root, "/etc/passwd", func(f []string) {
		if len(f) < 7 {
			return
		}
		uid, ok1, err1 := parseID(f[2])
		gid, ok2, err2 := parseID(f[3])
		if !ok1 || !ok2 || err1 != nil || err2 != nil {
			return
		}
		out = append(out, passwdEntry{Name: f[0], UID: uid, GID: gid, Home: f[5]})
	})
	return out, err
}

func readGroup(root string) ([]groupEntry, error) {
	var out []groupEntry
	err := readColonFile(root, "/etc/group", func(f []string) {
		if len(f) < 4 {
			return
		}
		gid, ok, err := parseID(f[2])
		if !ok || err != nil {
			return
		}
		var members []string
		if f[3] != "" {
			members = strings.Split(f[3], ",")
		}
		out = append(out, groupEntry{Name: f[0], GID: gid, Members: members})
	})
	return out, err
}

// readColonFile calls fn with the fields of each line that is not blank
// or a comment.
func readColonFile(root, name string, fn func([]string)) error {
	path, err := securejoin.SecureJoin(root, name)
	if err != nil {
		return fmt.Errorf("resolve %s in %s: %w", name, root, err)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fn(strings.Split(line, ":"))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
