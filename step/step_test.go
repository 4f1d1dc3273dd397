package step

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRunnerExplainsInOrderAndStopsAtFirstError(t *testing.T) {
	var out bytes.Buffer
	var ran []string
	boom := errors.New("boom")
	steps := []Step{
		{Op: "unshare", Args: "CLONE_NEWNS", Why: "private mounts", Do: func() error { ran = append(ran, "a"); return nil }},
		{Op: "write /x", Args: "1", ReadBack: func() (string, error) { return "1", nil }, Do: func() error { ran = append(ran, "b"); return nil }},
		{Op: "mount", Args: "proc", Do: func() error { return boom }},
		{Op: "never", Do: func() error { ran = append(ran, "c"); return nil }},
	}
	r := &Runner{Explain: &out, Prefix: "t"}
	err := r.Run(steps...)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if got := err.Error(); got != "mount proc: boom" {
		t.Errorf("error text = %q", got)
	}
	if strings.Join(ran, ",") != "a,b" {
		t.Errorf("ran %v", ran)
	}
	want := "explain[t]: unshare(CLONE_NEWNS)  # private mounts\n" +
		"explain[t]: write /x(1)\n" +
		"explain[t]:     -> 1\n" +
		"explain[t]: mount(proc)\n"
	if out.String() != want {
		t.Errorf("explain output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestRunnerSilentWithoutExplain(t *testing.T) {
	var r *Runner
	if err := r.Run(Step{Op: "x", Do: func() error { return nil }}); err != nil {
		t.Fatal(err)
	}
	(&Runner{}).Note("nothing")
}
