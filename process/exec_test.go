package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"prog": 0o755, "noexec": 0o644} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PATH=" + bin}
	tests := []struct {
		name, want, err string
	}{
		{"prog", bin + "/prog", ""},
		{bin + "/prog", bin + "/prog", ""},
		{"noexec", "", "not found in $PATH"},
		{bin + "/noexec", "", "no execute permission"},
		{bin, "", "is a directory"},
		{bin + "/missing", "", "no such file"},
		{"missing", "", "not found in $PATH"},
	}
	for _, tt := range tests {
		got, err := LookPath(tt.name, env)
		if tt.err == "" {
			if err != nil || got != tt.want {
				t.Errorf("LookPath(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("LookPath(%q) = %q, %v; want an error with %q", tt.name, got, err, tt.err)
		}
	}
}

func TestCheckArgStrlen(t *testing.T) {
	limit := 32*os.Getpagesize() - 1
	tests := []struct {
		args, env []string
		err       string
	}{
		{[]string{"sh"}, []string{"A=" + strings.Repeat("x", limit-2)}, ""},
		{[]string{strings.Repeat("x", limit)}, nil, ""},
		{[]string{"sh"}, []string{"BIG=" + strings.Repeat("x", limit-3)}, "env BIG is"},
		{[]string{"sh", strings.Repeat("x", limit+1)}, nil, "args[1] is"},
	}
	for i, tt := range tests {
		err := checkArgStrlen(tt.args, tt.env)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("case %d: %v, want %q", i, err, tt.err)
		}
	}
}
