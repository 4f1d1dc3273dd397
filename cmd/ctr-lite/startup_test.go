package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// The binary is built with updatemaxprocs=0 (//go:debug in main.go): the
// runtime starts no goroutine of its own to update GOMAXPROCS.
func TestNoMaxProcsUpdater(t *testing.T) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build info")
	}
	for _, s := range bi.Settings {
		if s.Key == "DefaultGODEBUG" && strings.Contains(","+s.Value+",", ",updatemaxprocs=0,") {
			return
		}
	}
	t.Errorf("DefaultGODEBUG lacks updatemaxprocs=0: the runtime updates GOMAXPROCS from a goroutine of its own")
}

// maxInitAllocs bounds the allocations of ctr-lite's own packages' init
// (GODEBUG=inittrace=1), paid by every command and again by every
// container's init: tables a few commands use are built on first use
// (sync.OnceValue), not at start. 230 before they were; 95 after.
const maxInitAllocs = 120

func TestPackageInitAllocs(t *testing.T) {
	if os.Getenv("CTR_LITE_INITTRACE_CHILD") == "1" {
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPackageInitAllocs$")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1", "CTR_LITE_INITTRACE_CHILD=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, stderr.Bytes())
	}
	// "init github.com/ctr-lite/ctr-lite/caps @1.9 ms, 0.046 ms clock, 4688 bytes, 91 allocs"
	total := 0
	var lines []string
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 11 || f[0] != "init" || f[10] != "allocs" ||
			!(f[1] == "main" || strings.HasPrefix(f[1], "github.com/ctr-lite/ctr-lite/")) {
			continue
		}
		n, err := strconv.Atoi(f[9])
		if err != nil {
			t.Fatalf("inittrace line %q: %v", sc.Text(), err)
		}
		total += n
		lines = append(lines, sc.Text())
	}
	if len(lines) == 0 {
		t.Fatalf("no inittrace lines for ctr-lite's packages in:\n%s", stderr.Bytes())
	}
	t.Logf("init allocations of ctr-lite's packages: %d", total)
	if total > maxInitAllocs {
		t.Errorf("ctr-lite's packages allocate %d times at init, more than %d: build tables on first use\n%s",
			total, maxInitAllocs, strings.Join(lines, "\n"))
	}
}
