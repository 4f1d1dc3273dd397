package process

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// MaxID is the largest uid or gid ctr-lite accepts anywhere (config.json,
// flags, /etc/passwd, id mappings): ids are 32-bit, and (uid_t)-1 means
// "leave unchanged" to setresuid(2) and setresgid(2), so an id of
// 4294967295 would keep the runtime's root. runc's user package stops at
// 2^31-1 too.
const MaxID = 1<<31 - 1

const maxID = MaxID

// ErrIDRange is wrapped by every error about an id outside 0..MaxID.
var ErrIDRange = errorf("out of range 0..%d", MaxID)

// CheckID returns an error naming what (e.g. "process.user.uid") if id
// is above MaxID.
func CheckID(what string, id uint64) error {
	if id > MaxID {
		return errorf("%s %d: %w", what, id, ErrIDRange)
	}
	return nil
}

// ValidateUser checks every id of a config.json process.user
// (config.md "User"): uid, gid and additionalGids, each in 0..MaxID.
// where prefixes the field names (e.g. "process.user").
func ValidateUser(where string, u specs.User) error {
	if err := CheckID(where+".uid", uint64(u.UID)); err != nil {
		return err
	}
	if err := CheckID(where+".gid", uint64(u.GID)); err != nil {
		return err
	}
	for i, g := range u.AdditionalGids {
		if err := CheckID(fmt.Sprintf("%s.additionalGids[%d]", where, i), uint64(g)); err != nil {
			return err
		}
	}
	return nil
}

// maxEtcFile bounds what is read of the container's /etc/passwd and
// /etc/group: the image is untrusted, and a huge (or sparse) file must
// not make the init eat the container's memory.
const maxEtcFile = 16 << 20

// passwdEntry is one line of /etc/passwd (passwd(5)).
type passwdEntry struct {
	Name     string
	UID, GID uint32
	Home     string
	// Err is set when the line's uid or gid is not a number in
	// 0..MaxID: the entry is never matched by id, and naming it is an
	// error.
	Err error
}

// groupEntry is one line of /etc/group (group(5)).
type groupEntry struct {
	Name    string
	GID     uint32
	Members []string
	Err     error // as passwdEntry.Err
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
	if err := ValidateUser("process.user", base); err != nil {
		return nil, err
	}
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

// UserName is the name root's /etc/passwd gives uid (passwd(5)), read
// as ResolveUser reads it (in root, a regular file, bounded); ok is false
// when no well-formed entry has uid. `list` uses it for the host's users
// (runc's "owner"), without os/user.
func UserName(root string, uid uint32) (name string, ok bool, err error) {
	passwd, err := readPasswd(root)
	if err != nil {
		return "", false, err
	}
	if pw := findPasswd(passwd, "", uid, true); pw != nil {
		return pw.Name, true, nil
	}
	return "", false, nil
}

// lookupUser: a name must be in /etc/passwd; a number may be, or not.
func lookupUser(passwd []passwdEntry, s string) (*passwdEntry, uint32, error) {
	if s == "" {
		return nil, 0, errors.New("user: empty user name")
	}
	if id, ok, err := parseID(s); ok || err != nil {
		if err != nil {
			return nil, 0, errorf("user %q: %w", s, err)
		}
		return findPasswd(passwd, "", id, true), id, nil
	}
	pw := findPasswd(passwd, s, 0, false)
	if pw == nil {
		return nil, 0, errorf("user %q: no such user in the container's /etc/passwd", s)
	}
	if pw.Err != nil {
		return nil, 0, errorf("user %q: /etc/passwd: %w", s, pw.Err)
	}
	return pw, pw.UID, nil
}

func lookupGroup(group []groupEntry, s string) (uint32, error) {
	if s == "" {
		return 0, errors.New("group: empty group name")
	}
	if id, ok, err := parseID(s); ok || err != nil {
		if err != nil {
			return 0, errorf("group %q: %w", s, err)
		}
		return id, nil
	}
	for _, g := range group {
		if g.Name == s {
			if g.Err != nil {
				return 0, errorf("group %q: /etc/group: %w", s, g.Err)
			}
			return g.GID, nil
		}
	}
	return 0, errorf("group %q: no such group in the container's /etc/group", s)
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
		return 0, true, errorf("id %s: %w", s, ErrIDRange)
	}
	return uint32(n), true, nil
}

func findPasswd(passwd []passwdEntry, name string, uid uint32, byUID bool) *passwdEntry {
	for i, p := range passwd {
		if (byUID && p.Err == nil && p.UID == uid) || (!byUID && p.Name == name) {
			return &passwd[i]
		}
	}
	return nil
}

func memberOf(group []groupEntry, name string) []uint32 {
	var gids []uint32
	for _, g := range group {
		if g.Err != nil {
			continue
		}
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
	data, err := readEtcFile(root, "/etc/passwd")
	if err != nil {
		return nil, err
	}
	return parsePasswd(data)
}

func readGroup(root string) ([]groupEntry, error) {
	data, err := readEtcFile(root, "/etc/group")
	if err != nil {
		return nil, err
	}
	return parseGroup(data)
}

// parsePasswd reads passwd(5) lines: name:password:uid:gid:gecos:home:shell.
// Short lines, blank lines and comments are skipped; a line whose uid or
// gid is not a number in 0..MaxID is kept with Err set.
func parsePasswd(data []byte) ([]passwdEntry, error) {
	var out []passwdEntry
	err := eachLine(data, func(f []string) {
		if len(f) < 7 {
			return
		}
		e := passwdEntry{Name: f[0], Home: f[5]}
		var err1, err2 error
		e.UID, err1 = entryID("uid", f[2])
		e.GID, err2 = entryID("gid", f[3])
		e.Err = errors.Join(err1, err2)
		out = append(out, e)
	})
	return out, err
}

// parseGroup reads group(5) lines: name:password:gid:member,member.
func parseGroup(data []byte) ([]groupEntry, error) {
	var out []groupEntry
	err := eachLine(data, func(f []string) {
		if len(f) < 4 {
			return
		}
		e := groupEntry{Name: f[0]}
		e.GID, e.Err = entryID("gid", f[2])
		if f[3] != "" {
			e.Members = strings.Split(f[3], ",")
		}
		out = append(out, e)
	})
	return out, err
}

func entryID(what, s string) (uint32, error) {
	id, ok, err := parseID(s)
	if err != nil {
		return 0, errorf("%s: %w", what, err)
	}
	if !ok || s == "" {
		return 0, errorf("%s %q is not a number", what, s)
	}
	return id, nil
}

// eachLine calls fn with the fields of each line that is not blank or a
// comment.
func eachLine(data []byte, fn func([]string)) error {
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(nil, maxEtcFile)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fn(strings.Split(line, ":"))
	}
	return sc.Err()
}

// readEtcFile reads name (/etc/passwd or /etc/group) of the container's
// root. The path is resolved in root (pathrs-lite: no symlink or ".."
// leads out), the O_PATH handle is fstat'ed before anything opens the
// file: only a regular file is read, so a FIFO or a device planted by
// the image cannot block or feed the init forever. The handle is
// reopened through its fd (the inode already checked, no path walked
// again; O_NOFOLLOW would refuse the /proc fd link itself), O_NONBLOCK
// all the same, and read up to maxEtcFile bytes. A missing file reads
// as empty. With openat2(2) the same is done without pathrs-lite's
// private procfs (openEtcInRoot): a runtime resolving the user before it
// forks (ResolveForRaw) pays ~0.1 ms instead of ~0.4.
//
// The host's own file (root "/", list's owner names, as runc's
// user.LookupUid reads it) is opened by its path: nothing lies outside
// "/" to stay out of, and pathrs-lite's in-root open costs a private
// procfs mount, a locked thread and ~40 syscalls.
func readEtcFile(root, name string) ([]byte, error) {
	var f *os.File
	if root == "/" {
		fd, err := unix.Open(name, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) {
			return nil, nil
		}
		if err != nil {
			return nil, errorf("open %s: %w", name, err)
		}
		// O_NONBLOCK only kept the open of a FIFO from waiting (which
		// checkEtcFile refuses before any read); without it os.NewFile
		// leaves the file out of the runtime's netpoller (no epoll set
		// up for one read of a regular file).
		if err := unix.SetNonblock(fd, false); err != nil {
			unix.Close(fd)
			return nil, errorf("open %s: %w", name, err)
		}
		f = os.NewFile(uintptr(fd), name)
	} else if ff, err := openEtcInRoot(root, name); err == nil || !errors.Is(err, errNoFastPath) {
		if err != nil || ff == nil {
			return nil, err // nil, nil: missing
		}
		f = ff
	} else {
		h, err := pathrs.OpenInRoot(root, name)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, errorf("open %s in %s: %w", name, root, err)
		}
		defer h.Close()
		if err := checkEtcFile(h, name); err != nil {
			return nil, err
		}
		f, err = pathrs.Reopen(h, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC)
		if err != nil {
			// No procfs to reopen through (a container without /proc
			// whose user namespace may not mount one): open the name in
			// its in-root parent, never following a symlink.
			if f, err = openInParent(root, name); err != nil {
				return nil, errorf("open %s: %w", name, err)
			}
		}
	}
	defer f.Close()
	if err := checkEtcFile(f, name); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxEtcFile+1))
	if err != nil {
		return nil, errorf("read %s: %w", name, err)
	}
	if len(data) > maxEtcFile {
		return nil, errorf("read %s: larger than %d bytes", name, maxEtcFile)
	}
	return data, nil
}

// errNoFastPath: openEtcInRoot cannot tell, ask pathrs-lite.
var errNoFastPath = errors.New("no openat2 fast path")

// noEtcFastPath makes readEtcFile use pathrs-lite only (tests).
var noEtcFastPath = false

// openEtcInRoot is readEtcFile's open of name in root (not "/") with
// openat2(2) RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS, as pathrs-lite
// resolves it, without its private procfs (a new procfs mount costs a
// runtime 1.5-7 ms here, more than the whole raw child's setup): the
// O_PATH handle is fstat'ed (only a regular file is opened, as
// checkEtcFile says), then reopened through the runtime's own
// /proc/self/fd, and the file opened must be the inode checked (same
// st_dev and st_ino), so a /proc that is not the kernel's cannot hand
// back another file. nil, nil: name is missing. errNoFastPath: the
// kernel lacks openat2 (5.6), or the reopen did not work: use pathrs.
func openEtcInRoot(root, name string) (*os.File, error) {
	if noEtcFastPath {
		return nil, errNoFastPath
	}
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, errorf("open %s in %s: %w", name, root, err)
	}
	defer unix.Close(rfd)
	h, err := unix.Openat2(rfd, name, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	switch {
	case errors.Is(err, unix.ENOENT):
		return nil, nil
	case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EXDEV):
		return nil, errNoFastPath // no openat2, a rename race, or a magic link: pathrs-lite decides
	case err != nil:
		return nil, errorf("open %s in %s: %w", name, root, err)
	}
	hf := os.NewFile(uintptr(h), name)
	defer hf.Close()
	if err := checkEtcFile(hf, name); err != nil {
		return nil, err
	}
	var hst, fst unix.Stat_t
	if err := unix.Fstat(h, &hst); err != nil {
		return nil, errorf("fstat %s: %w", name, err)
	}
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(h), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, errNoFastPath
	}
	if err := unix.Fstat(fd, &fst); err != nil || fst.Dev != hst.Dev || fst.Ino != hst.Ino {
		unix.Close(fd)
		return nil, errNoFastPath
	}
	// Not in the runtime's netpoller: one read of a regular file.
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, errorf("open %s: %w", name, err)
	}
	return os.NewFile(uintptr(fd), name), nil
}

// openInParent opens name's last component with openat(2) in its
// parent directory, resolved in root: O_NOFOLLOW|O_NONBLOCK.
func openInParent(root, name string) (*os.File, error) {
	dir, err := pathrs.OpenInRoot(root, path.Dir(name))
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	fd, err := unix.Openat(int(dir.Fd()), path.Base(name), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

// checkEtcFile: fstat(2) on the fd, never the path again.
func checkEtcFile(f *os.File, name string) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return errorf("fstat %s: %w", name, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return errorf("%s is not a regular file (mode %#o): refused", name, st.Mode&unix.S_IFMT)
	}
	if st.Size > maxEtcFile {
		return errorf("%s is %d bytes, more than the %d read: refused", name, st.Size, maxEtcFile)
	}
	return nil
}
