package process

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// rlimits are the spec's names (getrlimit(2)) and their resource
// numbers, sorted by name: a static table, nothing built at start.
var rlimits = [...]struct {
	name string
	res  int
}{
	{"RLIMIT_AS", unix.RLIMIT_AS},
	{"RLIMIT_CORE", unix.RLIMIT_CORE},
	{"RLIMIT_CPU", unix.RLIMIT_CPU},
	{"RLIMIT_DATA", unix.RLIMIT_DATA},
	{"RLIMIT_FSIZE", unix.RLIMIT_FSIZE},
	{"RLIMIT_LOCKS", unix.RLIMIT_LOCKS},
	{"RLIMIT_MEMLOCK", unix.RLIMIT_MEMLOCK},
	{"RLIMIT_MSGQUEUE", unix.RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", unix.RLIMIT_NICE},
	{"RLIMIT_NOFILE", unix.RLIMIT_NOFILE},
	{"RLIMIT_NPROC", unix.RLIMIT_NPROC},
	{"RLIMIT_RSS", unix.RLIMIT_RSS},
	{"RLIMIT_RTPRIO", unix.RLIMIT_RTPRIO},
	{"RLIMIT_RTTIME", unix.RLIMIT_RTTIME},
	{"RLIMIT_SIGPENDING", unix.RLIMIT_SIGPENDING},
	{"RLIMIT_STACK", unix.RLIMIT_STACK},
}

// rlimitResource returns the resource number of the spec's name.
func rlimitResource(name string) (int, bool) {
	for _, r := range rlimits {
		if r.name == name {
			return r.res, true
		}
	}
	return 0, false
}

// RlimitNames lists the resource names the kernel knows, sorted.
func RlimitNames() []string {
	names := make([]string, len(rlimits))
	for i, r := range rlimits {
		names[i] = r.name
	}
	return names
}

// Infinity is RLIM_INFINITY: no limit.
const Infinity = math.MaxUint64

// ParseRlimit parses NAME=SOFT[:HARD] (the CLI's --rlimit): NAME is
// RLIMIT_NOFILE or NOFILE or nofile; a value is a number or "unlimited";
// HARD defaults to SOFT.
func ParseRlimit(s string) (specs.POSIXRlimit, error) {
	name, val, ok := strings.Cut(s, "=")
	if !ok || val == "" {
		return specs.POSIXRlimit{}, errorf("rlimit %q: want NAME=SOFT[:HARD]", s)
	}
	name = strings.ToUpper(name)
	if !strings.HasPrefix(name, "RLIMIT_") {
		name = "RLIMIT_" + name
	}
	if _, ok := rlimitResource(name); !ok {
		return specs.POSIXRlimit{}, errorf("rlimit %q: unknown resource %s (known: %s)", s, name, strings.Join(RlimitNames(), " "))
	}
	softS, hardS, hasHard := strings.Cut(val, ":")
	soft, err := parseRlimitValue(softS)
	if err != nil {
		return specs.POSIXRlimit{}, errorf("rlimit %q: soft: %w", s, err)
	}
	hard := soft
	if hasHard {
		if hard, err = parseRlimitValue(hardS); err != nil {
			return specs.POSIXRlimit{}, errorf("rlimit %q: hard: %w", s, err)
		}
	}
	r := specs.POSIXRlimit{Type: name, Soft: soft, Hard: hard}
	return r, ValidateRlimits([]specs.POSIXRlimit{r})
}

func parseRlimitValue(s string) (uint64, error) {
	if s == "unlimited" || s == "infinity" || s == "-1" {
		return Infinity, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, errorf("%q is not a number or \"unlimited\"", s)
	}
	return v, nil
}

// ValidateRlimits checks what the spec asks the runtime to reject:
// unknown names, a type given twice, and soft above hard (which
// setrlimit(2) refuses with EINVAL).
func ValidateRlimits(rl []specs.POSIXRlimit) error {
	seen := map[string]bool{}
	for _, r := range rl {
		if _, ok := rlimitResource(r.Type); !ok {
			return errorf("rlimit %s: unknown resource (known: %s)", r.Type, strings.Join(RlimitNames(), " "))
		}
		if seen[r.Type] {
			return errorf("rlimit %s: given twice", r.Type)
		}
		seen[r.Type] = true
		if r.Soft > r.Hard {
			return errorf("rlimit %s: soft limit %s is above hard limit %s", r.Type, fmtLimit(r.Soft), fmtLimit(r.Hard))
		}
	}
	return nil
}

func fmtLimit(v uint64) string {
	if v == Infinity {
		return "unlimited"
	}
	return strconv.FormatUint(v, 10)
}

// rlimitSteps sets each limit on this process with prlimit(2); execve
// keeps them. prlimit on pid 0 also tells Go's syscall.Exec not to put
// back the RLIMIT_NOFILE soft limit the runtime raised at start.
func rlimitSteps(rl []specs.POSIXRlimit) []step.Step {
	var s []step.Step
	for _, r := range rl {
		res, _ := rlimitResource(r.Type)
		s = append(s, step.Step{
			Op:   "prlimit",
			Args: fmt.Sprintf("0, %s, {soft=%s, hard=%s}", r.Type, fmtLimit(r.Soft), fmtLimit(r.Hard)),
			Why:  "resource limit the program inherits across execve",
			Do:   func() error { return setRlimit(res, r) },
			ReadBack: func() (string, error) {
				var cur unix.Rlimit
				if err := unix.Prlimit(0, res, nil, &cur); err != nil {
					return "", err
				}
				return fmt.Sprintf("soft=%s hard=%s", fmtLimit(cur.Cur), fmtLimit(cur.Max)), nil
			},
		})
	}
	return s
}

func setRlimit(res int, r specs.POSIXRlimit) error {
	// The kernel fills old only on success: read it first, to explain EPERM.
	var old unix.Rlimit
	if err := unix.Prlimit(0, res, nil, &old); err != nil {
		return err
	}
	return rlimitErr(old.Max, r, unix.Prlimit(0, res, &unix.Rlimit{Cur: r.Soft, Max: r.Hard}, nil))
}

// rlimitErr explains err, the failed setting of r over a hard limit of
// oldMax.
func rlimitErr(oldMax uint64, r specs.POSIXRlimit, err error) error {
	if errors.Is(err, unix.EPERM) && r.Hard > oldMax {
		return errorf("raising the hard limit from %s to %s needs CAP_SYS_RESOURCE, which this process lacks: %w",
			fmtLimit(oldMax), fmtLimit(r.Hard), err)
	}
	return err
}
