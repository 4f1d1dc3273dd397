package cgroups

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestAllPidsWalksAsWalkDir: each group's pids come before its
// children's, children in name order (as filepath.WalkDir visited them
// before allPids walked by itself); a missing top is an lstat error, a
// file is no group; removeDir removes the tree, deepest first.
func TestAllPidsWalksAsWalkDir(t *testing.T) {
	old := testMode
	testMode = true
	t.Cleanup(func() { testMode = old })
	top := t.TempDir()
	for dir, procs := range map[string]string{
		"":    "1\n",
		"b":   "3\n4\n",
		"a":   "2\n",
		"a/z": "6\n",
		"a/c": "5\n",
		"c":   "",
	} {
		d := filepath.Join(top, dir)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(procs), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := allPids(top)
	if want := []int{1, 2, 5, 6, 3, 4}; err != nil || !slices.Equal(got, want) {
		t.Errorf("allPids = %v, %v; want %v", got, err, want)
	}
	if got, err := allPids(filepath.Join(top, "nope")); got != nil || !os.IsNotExist(err) {
		t.Errorf("allPids(missing) = %v, %v; want an lstat ENOENT", got, err)
	}
	if got, err := allPids(filepath.Join(top, "cgroup.procs")); got != nil || err != nil {
		t.Errorf("allPids(file) = %v, %v; want nothing", got, err)
	}
	if names, err := subdirs(top); err != nil || !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Errorf("subdirs = %v, %v", names, err)
	}
	// removeDir's rmdir(2) fails on a plain directory with files in it
	// (a cgroup's files are not files): empty them first.
	filepath.Walk(top, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			os.Remove(p)
		}
		return nil
	})
	if err := removeDir(top); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(top); !os.IsNotExist(err) {
		t.Errorf("removeDir left %s: %v", top, err)
	}
}
