package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLearnerFollowsEachExample runs every walkthrough in examples/ as a
// learner would: the script gets ctr-lite on $PATH and a fresh busybox
// rootfs in $ROOTFS, and checks what it shows with plain shell tests, so
// an example that stops being true fails here.
func TestLearnerFollowsEachExample(t *testing.T) {
	requireRoot(t)
	dir := "../examples"
	if p := os.Getenv("CTR_LITE_EXAMPLES"); p != "" {
		dir = p
	}
	scripts, err := filepath.Glob(filepath.Join(dir, "*.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) == 0 {
		t.Fatalf("no examples in %s", dir)
	}
	for _, s := range scripts {
		name := strings.TrimSuffix(filepath.Base(s), ".sh")
		if name == "demo" {
			continue // the README's demo is interactive
		}
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command("sh", "-eu", s)
			cmd.Env = append(os.Environ(),
				"PATH="+filepath.Dir(binary)+":"+os.Getenv("PATH"),
				"CTR_LITE="+binary,
				"ROOTFS="+newRootfs(t),
				"TMPDIR="+t.TempDir(),
			)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", s, err, out)
			}
			t.Logf("%s", out)
		})
	}
}
