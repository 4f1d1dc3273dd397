package integration

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

// Every subcommand of the primitives parses its flags one way, as cgroup's
// always did: --help prints its usage and exits 0, a bad flag is a usage
// error (exit 2) naming the subcommand, and flags may follow the
// arguments.
func TestUserAsksForHelpOnEverySubcommand(t *testing.T) {
	for _, sub := range [][]string{
		{"cgroup", "create"}, {"cgroup", "stats"}, {"cgroup", "delete"}, {"cgroup", "mode"},
		{"ns", "show"}, {"caps", "show"}, {"caps", "decode"}, {"caps", "list"},
		{"seccomp", "dump"}, {"seccomp", "check"},
	} {
		name := strings.Join(sub, " ")
		r := ctrLite(t, append(sub, "--help")...)
		if r.code != 0 || !strings.HasPrefix(r.stderr, "Usage: ctr-lite "+name) {
			t.Errorf("%s --help: %s", name, r)
		}
		r = ctrLite(t, append(sub, "--bogus")...)
		if r.code != 2 || !strings.Contains(r.stderr, "ctr-lite: "+sub[0]+": "+sub[1]+": flag provided but not defined: -bogus") ||
			strings.Contains(r.stderr, "Usage of") {
			t.Errorf("%s --bogus: %s", name, r)
		}
	}
	self := strconv.Itoa(os.Getpid())
	for _, args := range [][]string{
		{"caps", "show", self, "--format", "json"},
		{"ns", "show", self, "--format", "json"},
	} {
		r := mustCtrLite(t, args...)
		if !json.Valid([]byte(r.stdout)) {
			t.Errorf("%s: not JSON: %s", strings.Join(args, " "), r)
		}
	}
}
