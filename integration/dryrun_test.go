package integration

import (
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// explainSteps parses --explain lines of one side ("create" or "init")
// into "op" and "op(args)" lists; notes and read-backs are left out.
func explainSteps(out, side string) (ops, lines []string) {
	prefix := "explain[" + side + "]: "
	for _, l := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(l, prefix)
		if !ok || strings.HasPrefix(rest, "#") || strings.HasPrefix(rest, "    -> ") {
			continue
		}
		step, _, _ := strings.Cut(rest, "  # ")
		op, _, _ := strings.Cut(step, "(")
		ops = append(ops, op)
		lines = append(lines, step)
	}
	return ops, lines
}

// A learner asks what create would do, step by step, before doing it:
// create --dry-run prints the steps and makes nothing; the create that
// follows runs the init's steps the dry run named, in the same order.
func TestLearnerDryRunsCreateThenCreates(t *testing.T) {
	b := newBundle(t, "dryrun", "sleep", "1000")
	b.spec.Linux.Sysctl = map[string]string{"kernel.shmmax": "65536"}
	b.write()
	// Flags anywhere, as create takes them.
	dry := b.must("create", b.id, "--dry-run", "--bundle", b.dir)
	if dry.stderr != "" {
		t.Errorf("create --dry-run wrote to stderr:\n%s", dry.stderr)
	}
	b.wantNothingLeft()
	// The raw init (no init process: the forked child's system calls)
	// ends with the sealed trampoline, which execs the program after
	// start; the Go init with the program's execve.
	rawInit := strings.Contains(dry.stdout, "# no init process")
	exec := "explain[init]: execve(\"sleep\""
	if rawInit {
		exec = "explain[init]: execveat("
	}
	for _, want := range []string{"explain[create]: mkfifo(", "explain[create]: unshare(CLONE_NEWNS", "cgroup",
		"explain[init]: pivot_root(", "explain[init]: write " + b.dir, exec} {
		if !strings.Contains(dry.stdout, want) {
			t.Errorf("create --dry-run lacks %q:\n%s", want, dry.stdout)
		}
	}
	real := b.mustDetached("create", "--explain", "--bundle", b.dir, b.id)
	dryOps, dryLines := explainSteps(dry.stdout, "init")
	realOps, realLines := explainSteps(real.stderr, "init")
	// create returns once the init told it it is ready; the init's
	// explain line for the exec FIFO's open (where it then blocks) may
	// reach create's stderr before create exits, or not: drop it. The dry
	// run also shows what follows start: the signal reset and execve.
	if n := len(realOps); n > 0 && realOps[n-1] == "open" {
		realOps, realLines = realOps[:n-1], realLines[:n-1]
	}
	if rawInit {
		// The raw program branches (ENOENT: made; EEXIST: there
		// already): the dry run shows every op, create explains the ones
		// it ran. Each, arguments included, is the dry run's next of
		// the same line, up to the Done create waits for (the child's
		// later lines may reach create's stderr or not).
		done, j := slices.Index(realLines, `write(status pipe, "done")`), 0
		for i, l := range realLines {
			for j < len(dryLines) && dryLines[j] != l {
				j++
			}
			if j == len(dryLines) {
				t.Fatalf("create's init step %d %q is not among the dry run's after its step %d\ndry run: %q\ncreate:  %q", i, l, j, dryLines, realLines)
			}
			j++
		}
		if done < 0 {
			t.Errorf("create explained no Done of the child:\n%q", realLines)
		}
	} else {
		if want := []string{"open", "rt_sigaction, sigprocmask", "execve"}; len(dryOps) != len(realOps)+3 || !slices.Equal(dryOps[len(realOps):], want) {
			t.Fatalf("dry run's init steps after create's %d: want %q\ndry run: %q\ncreate:  %q", len(realOps), want, dryOps, realOps)
		}
		if !slices.Equal(dryOps[:len(realOps)], realOps) {
			t.Errorf("init ops differ\ndry run: %q\ncreate:  %q", dryOps, realOps)
		}
		// The root filesystem's steps and the process's read the same,
		// arguments included.
		for i, l := range realLines {
			if dryLines[i] != l {
				t.Errorf("init step %d: dry run %q, create %q", i, dryLines[i], l)
			}
		}
	}
	if want := `execve("sleep", ["sleep" "1000"])`; !rawInit && dryLines[len(dryLines)-1] != want {
		t.Errorf("dry run's last step %q, want %q (the program as the config names it)", dryLines[len(dryLines)-1], want)
	}
	if last := dryLines[len(dryLines)-1]; rawInit && (!strings.HasPrefix(last, "execve(") || !strings.Contains(last, `["sleep" "1000"]`)) {
		t.Errorf("dry run's last step %q, want the trampoline's execve of the program as the config names it", last)
	}
	_, dryRt := explainSteps(dry.stdout, "create")
	_, realRt := explainSteps(real.stderr, "create")
	for _, l := range realRt {
		if strings.HasPrefix(l, "unshare(") && !slices.Contains(dryRt, l) {
			t.Errorf("create ran %s, the dry run does not show it:\n%s", l, dry.stdout)
		}
	}
	// The ID is now taken: the dry run says so, as create does.
	b.fail([]string{"create", "--dry-run", "--bundle", b.dir, b.id}, "container with this ID already exists")
	b.must("delete", "--force", b.id)
}

// An orchestrator checks a config with create --dry-run: a config create
// refuses is refused the same way (message and exit status), and nothing
// is left behind either way.
func TestOrchestratorDryRunRefusesWhatCreateRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mod   func(*specs.Spec)
		flags []string
		want  string
	}{
		{"relative cwd", func(s *specs.Spec) { s.Process.Cwd = "tmp" }, nil, "process.cwd"},
		{"sysctl of the host", func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "10"} }, nil, "vm.swappiness"},
		{"namespace twice", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
		}, nil, "listed twice"},
		{"terminal without console socket", func(s *specs.Spec) { s.Process.Terminal = true }, nil, "--console-socket"},
		{"bad seccomp", func(s *specs.Spec) {
			s.Linux.Seccomp = &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_NOPE"}
		}, nil, "linux.seccomp"},
		{"negative preserve-fds", func(*specs.Spec) {}, []string{"--preserve-fds", "-1"}, "--preserve-fds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "dryfail", "true")
			tc.mod(b.spec)
			b.write()
			args := append([]string{"create", "--bundle", b.dir}, tc.flags...)
			dry := b.fail(append(append(args, "--dry-run"), b.id), tc.want)
			b.wantNothingLeft()
			real := b.fail(append(args, b.id), tc.want)
			if dry.stderr != real.stderr || dry.code != real.code {
				t.Errorf("dry run: exit %d %q\ncreate:  exit %d %q", dry.code, dry.stderr, real.code, real.stderr)
			}
		})
	}
}
