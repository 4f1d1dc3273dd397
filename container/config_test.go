package container

import (
	"os"
	"path/filepath"
	"testing"
)

// BundleDir names the bundle as runc 1.1 does after chdir(bundle):
// os.Getwd keeps $PWD when it is that directory, else getcwd(2)'s
// resolved path.
func TestBundleDir(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	real := filepath.Join(dir, "real")
	link := filepath.Join(dir, "link")
	os.Mkdir(real, 0o755)
	os.Mkdir(filepath.Join(dir, "other"), 0o755)
	if err := os.Symlink("real", link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, bundle, pwd, want string
	}{
		{"real", real, "/", real},
		{"link-resolved", link, "/", real},
		{"link-is-pwd", link, link, link},
		{"real-while-pwd-is-its-link", real, link, link},
		{"pwd-elsewhere", link, filepath.Join(dir, "other"), real},
		{"pwd-relative-ignored", link, "link", real},
		{"missing", filepath.Join(dir, "nope"), "/", filepath.Join(dir, "nope")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PWD", tc.pwd)
			got, err := BundleDir(tc.bundle)
			if err != nil || got != tc.want {
				t.Errorf("BundleDir(%q) with PWD=%q = %q, %v; want %q", tc.bundle, tc.pwd, got, err, tc.want)
			}
		})
	}
}
