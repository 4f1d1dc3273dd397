package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestUserRunsContainerWithHugeConfig: a 10 MiB config.json with 10,000
// mounts and a 1 MiB environment runs (runc runs a 40 MiB one). The
// config reached the init as one SOCK_SEQPACKET message, which failed
// above ~208 KiB with "message too long".
func TestUserRunsContainerWithHugeConfig(t *testing.T) {
	b := newBundle(t, "hugecfg", "sh", "-c", `n=0; for d in /m/*; do [ -f $d/marker ] && n=$((n+1)); done; echo "mounts=$n env=$(env | grep ^BIG | wc -c)"`)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "marker"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	const mounts = 10000
	for i := 0; i < mounts; i++ {
		b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: fmt.Sprintf("/m/%05d", i),
			Type: "bind", Source: src, Options: []string{"bind", "ro"}})
	}
	// execve(2) takes at most 128 KiB per string (MAX_ARG_STRLEN): 16
	// variables of 64 KiB make the 1 MiB.
	envBytes := 0
	for i := 0; i < 16; i++ {
		kv := fmt.Sprintf("BIG%02d=%s", i, strings.Repeat("v", 64<<10))
		b.spec.Process.Env = append(b.spec.Process.Env, kv)
		envBytes += len(kv) + 1
	}
	// Annotations fill the rest up to 10 MiB.
	b.spec.Annotations = map[string]string{}
	for i := 0; i < 128; i++ {
		b.spec.Annotations[fmt.Sprintf("org.example.pad%03d", i)] = strings.Repeat("a", 64<<10)
	}
	b.write()
	fi, err := os.Stat(filepath.Join(b.dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() < 10<<20 {
		t.Fatalf("config.json is %d bytes, want 10 MiB", fi.Size())
	}
	start := time.Now()
	r := b.ctr("run", "-b", b.dir, b.id)
	took := time.Since(start)
	t.Logf("run of a %d-byte config with %d mounts: %v", fi.Size(), mounts, took)
	if r.code != 0 {
		t.Fatalf("run: %s", r)
	}
	want := fmt.Sprintf("mounts=%d env=%d", mounts, envBytes)
	if got := strings.TrimSpace(r.stdout); got != want {
		t.Errorf("the program saw %q, want %q", got, want)
	}
}
