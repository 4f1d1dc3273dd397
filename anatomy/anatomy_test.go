package anatomy

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Mount
	}{
		{"36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue",
			Mount{ID: 36, Parent: 35, Root: "/mnt1", Point: "/mnt2", Options: "rw,noatime", Propagation: "master:1", Type: "ext3", Source: "/dev/root"}},
		{"22 1 0:21 / /proc rw,relatime - proc proc rw",
			Mount{ID: 22, Parent: 1, Root: "/", Point: "/proc", Options: "rw,relatime", Propagation: "private", Type: "proc", Source: "proc"}},
		{`30 22 0:5 / /a\040b rw shared:3 unbindable - tmpfs my\134src rw`,
			Mount{ID: 30, Parent: 22, Root: "/", Point: "/a b", Options: "rw", Propagation: "shared:3 unbindable", Type: "tmpfs", Source: `my\src`}},
	} {
		got, err := parseMountinfo(strings.NewReader(tc.line + "\n"))
		if err != nil || len(got) != 1 || got[0] != tc.want {
			t.Errorf("parseMountinfo(%q) = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
	for _, bad := range []string{"1 2 3", "1 1 0:1 / / rw proc proc rw x", `1 1 0:1 / /a\04 rw - proc proc rw`} {
		if _, err := parseMountinfo(strings.NewReader(bad)); err == nil {
			t.Errorf("parseMountinfo(%q): no error", bad)
		}
	}
}

func TestReadLimits(t *testing.T) {
	file := filepath.Join(t.TempDir(), "limits")
	content := "Limit                     Soft Limit           Hard Limit           Units     \n" +
		"Max cpu time              unlimited            unlimited            seconds   \n" +
		"Max open files            1024                 1048576              files     \n" +
		"Max nice priority         0                    0                    \n"
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readLimits(file)
	want := []Rlimit{
		{"Max cpu time", "unlimited", "unlimited", "seconds"},
		{"Max open files", "1024", "1048576", "files"},
		{"Max nice priority", "0", "0", ""},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("readLimits = %+v, %v; want %+v", got, err, want)
	}
}

// TestReadSelf reads this test's own anatomy: every part is there.
func TestReadSelf(t *testing.T) {
	p, err := Read(os.Getpid(), true)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if len(p.Namespaces) == 0 || len(p.Cgroups) == 0 || len(p.Capabilities) != 5 || len(p.UIDMap) == 0 ||
		len(p.Rlimits) < 16 || p.Hostname != host || len(p.Mounts) == 0 {
		t.Errorf("anatomy of self: %+v", p)
	}
}

// limitLine is the regexp it was, by hand: both split every line alike.
var limitLineRegexp = regexp.MustCompile(`^(\S.*?)\s{2,}(\S+)\s+(\S+)(?:\s+(\S+))?\s*$`)

var limitLineSeeds = []string{
	"Max cpu time              unlimited            unlimited            seconds   ",
	"Max open files            1024                 1048576              files     ",
	"Max nice priority         0                    0                    ",
	"Max realtime timeout      unlimited            unlimited            us        ",
	"Max file size             unlimited            unlimited            bytes",
	"", " ", "a", "a  b", "a  b  c", "a  b c", "a b  c d", "a b c d e", "a  b  c  d  e", "a\tb\tc", "a \t b c",
	"  a  b c", "a  b c   ", "a b  c\t\td", "x\r\ny  1 2", "a\u00a0 b c", "a\v\vb c", "a  b c d", "a  b c  d",
	"Max processes  1  2 3", "é  1 2",
}

func TestLimitLineMatchesRegexp(t *testing.T) {
	for _, l := range limitLineSeeds {
		checkLimitLine(t, l)
	}
}

func FuzzLimitLine(f *testing.F) {
	for _, l := range limitLineSeeds {
		f.Add(l)
	}
	f.Fuzz(checkLimitLine)
}

func checkLimitLine(t *testing.T, l string) {
	name, soft, hard, units, ok := limitLine(l)
	m := limitLineRegexp.FindStringSubmatch(l)
	if (m != nil) != ok || m != nil && (m[1] != name || m[2] != soft || m[3] != hard || m[4] != units) {
		t.Errorf("limitLine(%q) = %q %q %q %q %v, the regexp gives %q", l, name, soft, hard, units, ok, m)
	}
}
