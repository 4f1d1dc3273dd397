package main

import (
	"flag"
	"slices"
	"strings"
	"testing"

	"github.com/ctr-lite/ctr-lite/process"
)

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args  []string
		force bool
		mem   string
		rest  []string
		err   string
	}{
		{args: []string{"ID", "--force"}, force: true, rest: []string{"ID"}},
		{args: []string{"-f", "ID"}, force: true, rest: []string{"ID"}},
		{args: []string{"ID", "--memory", "64M"}, mem: "64M", rest: []string{"ID"}},
		{args: []string{"ID", "--memory=64M", "SIG"}, mem: "64M", rest: []string{"ID", "SIG"}},
		// A value flag takes the next word, whatever it is.
		{args: []string{"ID", "--memory", "-1"}, mem: "-1", rest: []string{"ID"}},
		// A bool flag takes no value: the word after it is an argument.
		{args: []string{"ID", "--force", "KILL"}, force: true, rest: []string{"ID", "KILL"}},
		{args: []string{"--", "--force"}, rest: []string{"--force"}},
		{args: []string{"ID", "--", "-f", "--memory"}, rest: []string{"ID", "-f", "--memory"}},
		{args: []string{"ID", "-9"}, rest: []string{"ID", "-9"}},
		{args: []string{"ID", "-"}, rest: []string{"ID", "-"}},
		{args: []string{"ID", "--bogus"}, err: "flag provided but not defined: -bogus"},
		{args: []string{"ID", "--memory"}, err: "flag needs an argument: -memory"},
		{args: []string{"ID", "--force=maybe"}, err: "invalid boolean value"},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(&strings.Builder{})
		force := fs.Bool("force", false, "")
		fs.BoolVar(force, "f", false, "")
		mem := fs.String("memory", "", "")
		rest, err := parseInterspersed(fs, tt.args)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || *force != tt.force || *mem != tt.mem || !slices.Equal(rest, tt.rest) {
			t.Errorf("%q: force %v mem %q rest %q err %v; want %v %q %q", tt.args, *force, *mem, rest, err, tt.force, tt.mem, tt.rest)
		}
	}
}

func TestParseExecUser(t *testing.T) {
	tests := []struct {
		in       string
		uid, gid uint32
		err      string
	}{
		{in: "0", uid: 0},
		{in: "1000:1001", uid: 1000, gid: 1001},
		{in: "2147483647:2147483647", uid: 2147483647, gid: 2147483647},
		{in: "4294967295", err: "uid 4294967295: out of range 0..2147483647"},
		{in: "0:4294967295", err: "gid 4294967295: out of range"},
		{in: "2147483648", err: "out of range"},
		{in: "-1", err: "out of range"},
		{in: "alice", err: "not a number"},
		{in: "1:", err: "not a number"},
		{in: ":1", err: "not a number"},
		{in: "1:2:3", err: "not a number"},
		{in: "99999999999999999999", err: "not a number"},
	}
	for _, tt := range tests {
		u, err := parseExecUser(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || u.UID != tt.uid || u.GID != tt.gid {
			t.Errorf("%q: %+v %v", tt.in, u, err)
		}
	}
}

// FuzzParseExecUser: --user either fails or gives ids in 0..MaxID.
func FuzzParseExecUser(f *testing.F) {
	for _, s := range []string{"0", "1000:1000", "4294967295", "0:4294967295", "-1", "+1", "1:", ":", "",
		"2147483648", "0x10", "1 ", "０", "1:2:3", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := parseExecUser(s)
		if err == nil && (u.UID > process.MaxID || u.GID > process.MaxID) {
			t.Fatalf("%q parsed to %+v", s, u)
		}
	})
}

// FuzzParseInterspersed: no command line panics the parser, and every
// word comes back as a flag, a flag's value or an argument, in order.
func FuzzParseInterspersed(f *testing.F) {
	for _, s := range []string{"ID --force", "--memory 64M ID", "ID -- --force", "--", "-", "ID --memory",
		"--memory=1 --memory 2 ID", "-9 ID", "--=x", "---force", "-f=true ID"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(&strings.Builder{})
		fs.Bool("force", false, "")
		fs.String("memory", "", "")
		args := strings.Fields(line)
		rest, err := parseInterspersed(fs, args)
		if err != nil {
			return
		}
		if len(rest) > len(args) {
			t.Fatalf("%q: %d arguments from %d words", args, len(rest), len(args))
		}
	})
}

func TestCheckRootless(t *testing.T) {
	for _, tc := range []struct {
		v      string
		ok     bool
		parsed bool // parseRootless, for true and false
	}{
		{"true", true, true}, {"false", true, false}, {"auto", true, false},
		{"", false, false}, {"yes", false, false}, {"TRUE", false, false},
	} {
		err := checkRootless(tc.v)
		if (err == nil) != tc.ok {
			t.Errorf("checkRootless(%q) = %v, want ok=%v", tc.v, err, tc.ok)
		}
		got, perr := parseRootless(tc.v)
		if (perr == nil) != tc.ok {
			t.Errorf("parseRootless(%q) error %v, want ok=%v", tc.v, perr, tc.ok)
		}
		if tc.ok && tc.v != "auto" && got != tc.parsed {
			t.Errorf("parseRootless(%q) = %v, want %v", tc.v, got, tc.parsed)
		}
	}
}
