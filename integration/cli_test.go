package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestUserPrintsVersion(t *testing.T) {
	r := mustCtrLite(t, "--version")
	for _, re := range []string{`(?m)^ctr-lite version \S+$`, `(?m)^spec: 1\.\d+\.\d+`, `(?m)^go: go1\.`} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("--version output lacks %s:\n%s", re, r.stdout)
		}
	}
}

func TestUserAsksForHelpOnEveryCommand(t *testing.T) {
	r := ctrLite(t, "--help")
	if r.code != 0 {
		t.Fatalf("--help: %s", r)
	}
	var names []string
	inCommands := false
	for _, line := range strings.Split(r.stderr, "\n") {
		switch {
		case strings.HasPrefix(line, "Commands:"):
			inCommands = true
		case inCommands && strings.HasPrefix(line, "  "):
			names = append(names, strings.Fields(line)[0])
		case inCommands:
			inCommands = false
		}
	}
	if len(names) == 0 {
		t.Fatalf("no commands listed:\n%s", r.stderr)
	}
	for _, n := range names {
		r := ctrLite(t, n, "--help")
		if r.code != 0 || !strings.Contains(r.stderr, "Usage: ctr-lite "+n) {
			t.Errorf("%s --help: %s", n, r)
		}
	}
}

func TestUserMistypesACommand(t *testing.T) {
	r := wantFail(t, []string{"frobnicate"}, `unknown command "frobnicate"`)
	if r.code != 2 {
		t.Errorf("exit %d, want 2", r.code)
	}
}

func TestOrchestratorReadsJSONLogLine(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "log.json")
	r := ctrLite(t, "--log", logFile, "--log-format", "json", "frobnicate")
	if r.code == 0 {
		t.Fatal("unknown command succeeded")
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var last struct{ Level, Msg, Time string }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("last log line is not JSON: %v: %q", err, lines[len(lines)-1])
	}
	if last.Level != "error" || !strings.Contains(last.Msg, "frobnicate") || last.Time == "" {
		t.Errorf("last log line = %+v", last)
	}
}

func TestUserGivesBadLogFormat(t *testing.T) {
	wantFail(t, []string{"--log-format", "xml", "version"}, "xml")
}
