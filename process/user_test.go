package process

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// etcRoot makes a root whose /etc/passwd and /etc/group hold the given
// text.
func etcRoot(t *testing.T, passwd, group string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"passwd": passwd, "group": group} {
		if err := os.WriteFile(filepath.Join(root, "etc", name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestResolveUserRefusesOutOfRangeEntries(t *testing.T) {
	root := etcRoot(t,
		"evil:x:4294967295:0::/:/bin/sh\nhalf:x:1:2147483648::/:/bin/sh\nok:x:7:7::/home/ok:/bin/sh\n",
		"evilg:x:4294967295:ok\ngood:x:8:ok\n")
	tests := []struct {
		spec string
		err  string
		uid  uint32
	}{
		{spec: "evil", err: `user "evil": /etc/passwd: uid: id 4294967295: out of range 0..2147483647`},
		{spec: "half", err: `user "half": /etc/passwd: gid: id 2147483648: out of range`},
		{spec: "ok:evilg", err: `group "evilg": /etc/group: gid: id 4294967295: out of range`},
		{spec: "4294967295", err: "out of range"},
		{spec: "-1", err: "no such user"},
		{spec: "7:-1", err: "no such group"},
		// The bad group entry is never a supplementary group of ok.
		{spec: "ok", uid: 7},
	}
	for _, tt := range tests {
		u, err := resolveUser(root, tt.spec, specs.User{}, nil)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.spec, err, tt.err)
			}
			if err != nil && strings.Contains(tt.err, "out of range") && !errors.Is(err, ErrIDRange) {
				t.Errorf("%q: %v does not wrap ErrIDRange", tt.spec, err)
			}
			continue
		}
		if err != nil || u.UID != tt.uid || len(u.Groups) != 1 || u.Groups[0] != 8 {
			t.Errorf("%q: %+v %v", tt.spec, u, err)
		}
	}
}

func TestResolveUserRefusesFIFOAsPasswd(t *testing.T) {
	root := etcRoot(t, "", "")
	p := filepath.Join(root, "etc", "passwd")
	os.Remove(p)
	if err := unix.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := resolveUser(root, "0", specs.User{}, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "/etc/passwd is not a regular file") {
			t.Errorf("FIFO as /etc/passwd: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("reading a FIFO /etc/passwd blocked")
	}
}

func TestResolveUserRefusesHugeGroupFile(t *testing.T) {
	root := etcRoot(t, "", "")
	p := filepath.Join(root, "etc", "group")
	// Sparse: 1 GiB that costs nothing on disk.
	if err := os.Truncate(p, 1<<30); err != nil {
		t.Fatal(err)
	}
	_, err := resolveUser(root, "0", specs.User{}, nil)
	if err == nil || !strings.Contains(err.Error(), "more than the") {
		t.Errorf("1 GiB /etc/group: %v", err)
	}
}

func TestResolveUserRefusesDirectoryAsGroup(t *testing.T) {
	root := etcRoot(t, "", "")
	p := filepath.Join(root, "etc", "group")
	os.Remove(p)
	os.Mkdir(p, 0o755)
	_, err := resolveUser(root, "0", specs.User{}, nil)
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory as /etc/group: %v", err)
	}
}

func TestResolveUserFollowsSymlinkInsideRoot(t *testing.T) {
	root := etcRoot(t, "", "")
	// /etc/passwd -> /../../lib/passwd stays in root (resolved as if
	// root were "/").
	os.MkdirAll(filepath.Join(root, "lib"), 0o755)
	os.WriteFile(filepath.Join(root, "lib", "passwd"), []byte("carol:x:77:78::/c:/bin/sh\n"), 0o644)
	p := filepath.Join(root, "etc", "passwd")
	os.Remove(p)
	if err := os.Symlink("/../../lib/passwd", p); err != nil {
		t.Fatal(err)
	}
	u, err := resolveUser(root, "carol", specs.User{}, nil)
	if err != nil || u.UID != 77 || u.GID != 78 {
		t.Errorf("symlinked /etc/passwd: %+v %v", u, err)
	}
}

func TestValidateUser(t *testing.T) {
	tests := []struct {
		u   specs.User
		err string
	}{
		{specs.User{}, ""},
		{specs.User{UID: MaxID, GID: MaxID, AdditionalGids: []uint32{MaxID}}, ""},
		{specs.User{UID: MaxID + 1}, "p.uid 2147483648: out of range 0..2147483647"},
		{specs.User{GID: 4294967295}, "p.gid 4294967295: out of range"},
		{specs.User{AdditionalGids: []uint32{0, 4294967295}}, "p.additionalGids[1] 4294967295"},
	}
	for _, tt := range tests {
		err := ValidateUser("p", tt.u)
		if (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ValidateUser(%+v) = %v, want %q", tt.u, err, tt.err)
		}
	}
}

// FuzzParsePasswd: no input makes the parser panic, and no entry it
// returns without Err has an id above MaxID.
func FuzzParsePasswd(f *testing.F) {
	for _, s := range []string{
		"root:x:0:0:root:/root:/bin/sh\n",
		"evil:x:4294967295:0::/:/bin/sh\n",
		"x:x:-1:-1:::\n",
		"x:x:99999999999999999999:0:::\n",
		"a:b:c\n\n#c\n:::::::\n",
		"+::::::\n",
		"long:" + strings.Repeat("x", 70000) + ":1:1:::\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pw, _ := parsePasswd(data)
		for _, e := range pw {
			if e.Err == nil && (e.UID > MaxID || e.GID > MaxID) {
				t.Fatalf("entry %+v out of range without error", e)
			}
		}
		gr, _ := parseGroup(data)
		for _, e := range gr {
			if e.Err == nil && e.GID > MaxID {
				t.Fatalf("group %+v out of range without error", e)
			}
		}
	})
}

// FuzzLookupUser: a --user or process user string either resolves to
// ids in 0..MaxID or fails; it never panics.
func FuzzLookupUser(f *testing.F) {
	for _, s := range []string{"0", "alice", "alice:staff", "4294967295", "1:4294967295",
		"2147483648", ":1", "1:", "-1", "1:-1", "evil", "alice:x:y", "00000000000000000001", ""} {
		f.Add(s)
	}
	root := "testdata/rootfs"
	f.Fuzz(func(t *testing.T, s string) {
		u, err := resolveUser(root, s, specs.User{}, []string{"audio"})
		if err != nil {
			return
		}
		if u.UID > MaxID || u.GID > MaxID {
			t.Fatalf("%q resolved to %+v", s, u)
		}
		for _, g := range u.Groups {
			if g > MaxID {
				t.Fatalf("%q resolved to group %d", s, g)
			}
		}
	})
}

func TestOpenInParentRefusesSymlinkAndFIFOWithoutBlocking(t *testing.T) {
	root := etcRoot(t, "a:x:1:1::/:/bin/sh\n", "")
	f, err := openInParent(root, "/etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkEtcFile(f, "/etc/passwd"); err != nil {
		t.Errorf("regular file: %v", err)
	}
	f.Close()
	os.Symlink("passwd", filepath.Join(root, "etc", "link"))
	if _, err := openInParent(root, "/etc/link"); !errors.Is(err, unix.ELOOP) {
		t.Errorf("symlink: %v, want ELOOP", err)
	}
	unix.Mkfifo(filepath.Join(root, "etc", "fifo"), 0o644)
	f, err = openInParent(root, "/etc/fifo") // O_NONBLOCK: returns at once
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := checkEtcFile(f, "/etc/fifo"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("FIFO: %v", err)
	}
}

// readEtcFile's openat2 fast path reads what pathrs-lite reads, and
// refuses what it refuses, with the same words.
func TestReadEtcFileFastPathAsPathrs(t *testing.T) {
	fixtures := map[string]func(root string){
		"plain":   func(string) {},
		"missing": func(root string) { os.Remove(filepath.Join(root, "etc", "passwd")) },
		"fifo": func(root string) {
			os.Remove(filepath.Join(root, "etc", "passwd"))
			unix.Mkfifo(filepath.Join(root, "etc", "passwd"), 0o644)
		},
		"dir": func(root string) {
			os.Remove(filepath.Join(root, "etc", "passwd"))
			os.Mkdir(filepath.Join(root, "etc", "passwd"), 0o755)
		},
		"huge": func(root string) { os.Truncate(filepath.Join(root, "etc", "passwd"), 1<<30) },
		"symlink out": func(root string) {
			os.Remove(filepath.Join(root, "etc", "passwd"))
			os.MkdirAll(filepath.Join(root, "lib"), 0o755)
			os.WriteFile(filepath.Join(root, "lib", "passwd"), []byte("in:x:1:1::/:/bin/sh\n"), 0o644)
			os.Symlink("../../../../../../../lib/passwd", filepath.Join(root, "etc", "passwd"))
		},
		"etc symlink": func(root string) {
			os.Rename(filepath.Join(root, "etc"), filepath.Join(root, "etc2"))
			os.Symlink("/etc2", filepath.Join(root, "etc"))
		},
	}
	defer func() { noEtcFastPath = false }()
	for name, fix := range fixtures {
		root := etcRoot(t, "", "")
		fix(root)
		var data [2][]byte
		var errs [2]error
		for i, slow := range []bool{false, true} {
			noEtcFastPath = slow
			data[i], errs[i] = readEtcFile(root, "/etc/passwd")
		}
		if string(data[0]) != string(data[1]) || (errs[0] == nil) != (errs[1] == nil) {
			t.Errorf("%s: fast path %q, %v; pathrs-lite %q, %v", name, data[0], errs[0], data[1], errs[1])
		}
		if errs[0] != nil && strings.Contains(errs[1].Error(), "refused") && errs[0].Error() != errs[1].Error() {
			t.Errorf("%s: fast path %v; pathrs-lite %v", name, errs[0], errs[1])
		}
	}
}
