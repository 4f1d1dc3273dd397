package integration

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLearnerFollowsEachExample runs every walkthrough in examples/
// exactly as examples/README.md tells a newcomer to, one after the other
// on the same rootfs, from the repository's top directory:
//
//	PATH=$PWD/bin:$PATH ROOTFS=/tmp/rootfs sh -eu examples/01-namespaces.sh
//
// with nothing else set (no TMPDIR). Each script checks what it shows with
// plain shell tests, so an example that stops being true fails here; and
// it must leave nothing behind: its scratch directory, a mount, a cgroup,
// or a change to the rootfs (so that it runs again).
func TestLearnerFollowsEachExample(t *testing.T) {
	requireRoot(t)
	dir := "../examples"
	if p := os.Getenv("CTR_LITE_EXAMPLES"); p != "" {
		dir = p
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := filepath.Glob(filepath.Join(dir, "*.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) == 0 {
		t.Fatalf("no examples in %s", dir)
	}
	// The newcomer's environment: theirs, without what the README does
	// not set, plus the two variables it does.
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "TMPDIR", "ROOTFS", "PATH", "CTR_LITE":
		default:
			env = append(env, kv)
		}
	}
	rootfs := newRootfs(t)
	env = append(env, "PATH="+filepath.Dir(binary)+":"+os.Getenv("PATH"), "ROOTFS="+rootfs)
	for _, s := range scripts {
		name := strings.TrimSuffix(filepath.Base(s), ".sh")
		if name == "demo" {
			continue // the README's demo is interactive
		}
		t.Run(name, func(t *testing.T) {
			before := tree(t, rootfs)
			cmd := exec.Command("sh", "-eu", filepath.Join(filepath.Base(dir), filepath.Base(s)))
			cmd.Dir = filepath.Dir(dir)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", s, err, out)
			}
			t.Logf("%s", out)
			var left []string
			first, _, _ := strings.Cut(string(out), "\n")
			scratch, ok := strings.CutPrefix(first, "scratch files in ")
			scratch, _, _ = strings.Cut(scratch, " ")
			if !ok || !filepath.IsAbs(scratch) {
				t.Errorf("first line %q: want \"scratch files in DIR ...\"", first)
			} else if _, err := os.Stat(scratch); err == nil {
				left = append(left, "scratch directory "+scratch)
			}
			for _, m := range mountsUnder(t, rootfs) {
				left = append(left, "mount "+m)
			}
			pid := cmd.Process.Pid // the script's $$ names its cgroup and container
			for _, d := range cgDirs(fmt.Sprintf("/ctr-lite-example-%d", pid)) {
				left = append(left, "cgroup "+d)
			}
			for _, d := range ownCgroupDirs(fmt.Sprintf("web-%d", pid)) {
				left = append(left, "cgroup "+d)
			}
			if after := tree(t, rootfs); after != before {
				left = append(left, "changes in $ROOTFS:\n"+after)
			}
			if len(left) > 0 {
				t.Errorf("%s left behind:\n%s", s, strings.Join(left, "\n"))
			}
		})
	}
}

// tree lists every path under dir with its size, one a line.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s %d\n", strings.TrimPrefix(p, dir), info.Size())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
