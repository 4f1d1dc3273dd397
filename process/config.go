package process

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// DefaultPath is the PATH a program gets when its environment has none
// (the value runc and Docker use).
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Config is the process part of an OCI config, plus what the CLI adds.
type Config struct {
	// Process is config.json's "process": Args, Env, Cwd, User, Rlimits,
	// OOMScoreAdj, NoNewPrivileges. Capabilities and the seccomp profile
	// are applied by the caps and seccomp packages through the slots below.
	Process specs.Process `json:"process,omitempty"`

	// UserSpec, if set, replaces Process.User's uid and gid: "name",
	// "uid", "name:group" or "uid:gid", resolved against Root's
	// /etc/passwd and /etc/group like runc's user package (runc exec
	// --user). A numeric uid or gid need not be in the files; a name must.
	UserSpec string `json:"user_spec,omitempty"`
	// Groups are supplementary groups added to Process.User.AdditionalGids:
	// numbers, or names looked up in Root's /etc/group.
	Groups []string `json:"groups,omitempty"`

	// Hostname and Domainname are config.json's "hostname" and
	// "domainname". Setting them needs a UTS namespace of our own.
	Hostname   string `json:"hostname,omitempty"`
	Domainname string `json:"domainname,omitempty"`
	// Sysctl is config.json's "linux.sysctl": written to /proc/sys, only
	// for sysctls that belong to a namespace the process has of its own.
	Sysctl map[string]string `json:"sysctl,omitempty"`
	// Namespaces the process runs in apart from the host's (config.json's
	// "linux.namespaces": created, or joined by path). Sysctl and Hostname
	// are checked against it. See OwnNamespaces for the running process.
	Namespaces []specs.LinuxNamespace `json:"namespaces,omitempty"`

	// Root is where /etc/passwd and /etc/group are read. "/" (the default)
	// after pivot_root: the container's own files, as runc reads them.
	Root string `json:"root,omitempty"`
	// Proc is where a procfs is mounted (default "/proc"); sysctl and
	// oom_score_adj are written through it after checking it is one.
	Proc string `json:"proc,omitempty"`

	// KeepFDs are file descriptors above 2 that stay open across execve
	// (runc's --preserve-fds passes 3..3+N-1). Every other one is marked
	// close-on-exec.
	KeepFDs []int `json:"keep_fds,omitempty"`

	// ChownStdio gives fds 0, 1 and 2 to the process's uid (keeping their
	// group) before the user change, as runc's fixStdioPermissions does:
	// a container's terminal (or the pipes it was given) must belong to
	// the user it runs as. /dev/null is left alone.
	ChownStdio bool `json:"chown_stdio,omitempty"`

	// BeforeUser runs as root, after cwd and before the user change: the
	// caps package's bounding-set drop (caps.BoundingSteps()).
	BeforeUser []step.Step `json:"-"`
	// AfterUser runs right after the user change: caps.ApplySteps().
	AfterUser []step.Step `json:"-"`
	// Last runs after no_new_privs, right before execve: the seccomp
	// package's load step.
	Last []step.Step `json:"-"`

	// Raw holds the hooks for RawSteps, which takes no Go steps.
	Raw RawHooks `json:"-"`
	// Stdio is what RawSteps knows of the child's fds 0, 1 and 2 for
	// ChownStdio (StatStdio); the Go step fstat's them itself.
	Stdio [3]StdioFile `json:"-"`
	// SetgroupsDenied: the user namespace the process runs in has
	// /proc/PID/setgroups "deny" (the runtime wrote it for a rootless
	// container's maps). The Go step reads it; RawSteps must be told.
	SetgroupsDenied bool `json:"-"`
}

// Resolved is what Steps worked out from the config and the rootfs's
// files: what the program will run as, where and with what.
type Resolved struct {
	UID, GID uint32
	Groups   []uint32
	Home     string
	Path     string   // the executable, found with the final PATH
	Args     []string // argv
	Env      []string // the final environment
	// PathReg is the register in which RawSteps' ops leave a pointer
	// to the executable found (Path stays empty: the child looks it up).
	PathReg raw.Reg
}

// Validate checks what Resolve checks without reading any file: cwd,
// hostname, sysctls, rlimits, oom_score_adj, umask, the user's ids, the
// environment and the kept fds. A runtime calls it at create, so that
// nothing its init or exec would refuse later gets that far.
func Validate(cfg Config) error {
	p := cfg.Process
	if len(p.Args) == 0 {
		return errors.New("process: no command (args is empty)")
	}
	if p.Cwd != "" && !filepath.IsAbs(p.Cwd) {
		return errorf("process: cwd %q is relative; the spec wants an absolute path in the container", p.Cwd)
	}
	if err := validateUTS(cfg); err != nil {
		return err
	}
	if err := ValidateSysctls(cfg.Sysctl, cfg.Namespaces); err != nil {
		return err
	}
	if err := ValidateRlimits(p.Rlimits); err != nil {
		return err
	}
	if p.OOMScoreAdj != nil && (*p.OOMScoreAdj < -1000 || *p.OOMScoreAdj > 1000) {
		return errorf("process: oom_score_adj %d out of range -1000..1000", *p.OOMScoreAdj)
	}
	if p.User.Umask != nil && *p.User.Umask > 0o777 {
		return errorf("process: umask %#o is more than 0777", *p.User.Umask)
	}
	if err := ValidateUser("process.user", p.User); err != nil {
		return err
	}
	if err := ValidateEnv(p.Env); err != nil {
		return err
	}
	for _, fd := range cfg.KeepFDs {
		if fd < 3 {
			return errorf("process: keep fd %d: 0, 1 and 2 are always kept; name fds from 3", fd)
		}
	}
	return checkArgStrlen(p.Args, p.Env)
}

// Resolve validates cfg and resolves the user, environment and
// executable. It reads files (Root's /etc/passwd, the PATH) but changes
// nothing, so bad input fails before any step ran.
func Resolve(cfg Config) (*Resolved, error) {
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	return resolveFiles(cfg)
}

// resolveFiles is Resolve for a cfg that Validate accepted.
func resolveFiles(cfg Config) (*Resolved, error) {
	p := cfg.Process
	if p.Cwd == "" {
		p.Cwd = "/"
	}
	root := cfg.Root
	if root == "" {
		root = "/"
	}
	u, err := resolveUser(root, cfg.UserSpec, p.User, cfg.Groups)
	if err != nil {
		return nil, err
	}
	r := &Resolved{UID: u.UID, GID: u.GID, Groups: u.Groups, Home: u.Home, Args: p.Args}
	r.Env = finalEnv(p.Env, u.Home)
	name := p.Args[0]
	if strings.Contains(name, "/") && !filepath.IsAbs(name) {
		name = filepath.Join(p.Cwd, name)
	}
	if r.Path, err = LookPath(name, r.Env); err != nil {
		return nil, errorf("process: %w", err)
	}
	return r, nil
}

// checkArgStrlen applies MAX_ARG_STRLEN (linux/binfmts.h): execve(2)
// refuses, with E2BIG, an argument or environment string longer than 32
// pages minus its NUL. The total size of both is the kernel's to check
// (a quarter of RLIMIT_STACK, at least 32 pages).
func checkArgStrlen(args, env []string) error {
	maxArgStrlen := 32*os.Getpagesize() - 1
	for i, a := range args {
		if len(a) > maxArgStrlen {
			return errorf("process: args[%d] is %d bytes; execve(2) takes at most %d per string (MAX_ARG_STRLEN)", i, len(a), maxArgStrlen)
		}
	}
	for _, kv := range env {
		if len(kv) > maxArgStrlen {
			k, _, _ := strings.Cut(kv, "=")
			return errorf("process: env %s is %d bytes; execve(2) takes at most %d per string (MAX_ARG_STRLEN)", k, len(kv), maxArgStrlen)
		}
	}
	return nil
}

// ValidateEnv checks each NAME=VALUE of process.env (config.md "env"),
// as runc's init does before it sets them: an "=", a name, no NUL byte
// (execve(2) would cut the string there).
func ValidateEnv(env []string) error {
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			return errorf("process.env %q: missing '='", kv)
		case k == "":
			return errorf("process.env %q: empty name", kv)
		case strings.IndexByte(k, 0) >= 0 || strings.IndexByte(v, 0) >= 0:
			return errorf("process.env %q: contains a NUL byte", k)
		}
	}
	return nil
}

// DedupEnv keeps one entry per name: a name given again replaces the
// value where the name first appeared (runc sets each entry in order
// with setenv, so the last value wins: config.json's env, then exec's
// --env, in that order).
func DedupEnv(env []string) []string {
	out := make([]string, 0, len(env))
	at := make(map[string]int, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := at[k]; ok {
			out[i] = kv
			continue
		}
		at[k] = len(out)
		out = append(out, kv)
	}
	return out
}

// finalEnv adds what runc adds: PATH when the config has none (so the
// program can find anything) and HOME from /etc/passwd when unset. A
// name given twice keeps its last value (DedupEnv).
func finalEnv(env []string, home string) []string {
	out := DedupEnv(env)
	if !hasEnv(out, "PATH") {
		out = append(out, "PATH="+DefaultPath)
	}
	if !hasEnv(out, "HOME") {
		out = append(out, "HOME="+home)
	}
	return out
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}

// validateUTS: sethostname(2) in the host's UTS namespace would rename
// the host.
func validateUTS(cfg Config) error {
	if (cfg.Hostname != "" || cfg.Domainname != "") && !hasNamespace(cfg.Namespaces, specs.UTSNamespace) {
		return errors.New("process: setting hostname or domainname needs a new UTS namespace (it would rename the host)")
	}
	if len(cfg.Hostname) > 64 || len(cfg.Domainname) > 64 {
		return errors.New("process: hostname and domainname are at most 64 bytes (HOST_NAME_MAX)")
	}
	return nil
}

func hasNamespace(nss []specs.LinuxNamespace, t specs.LinuxNamespaceType) bool {
	for _, ns := range nss {
		if ns.Type == t {
			return true
		}
	}
	return false
}

// Steps validates cfg, resolves it (see Resolve) and returns the last
// stage of a container's setup, in order, ending with execve. Call it
// after pivot_root, on the thread that will run the steps, and keep that
// thread locked (runtime.LockOSThread) until execve. Nothing is changed
// until the steps run.
func Steps(cfg Config) ([]step.Step, *Resolved, error) {
	if err := Validate(cfg); err != nil {
		return nil, nil, err
	}
	return ValidatedSteps(cfg)
}

// ValidatedSteps is Steps for a cfg that Validate accepted already: a
// runtime validates at create (container.NewPlan), and its init, given
// the validated config, only reads the files (see Resolve) and builds
// the steps.
func ValidatedSteps(cfg Config) ([]step.Step, *Resolved, error) {
	r, err := resolveFiles(cfg)
	if err != nil {
		return nil, nil, err
	}
	return StepsFor(cfg, r), r, nil
}

// StepsFor returns the steps for cfg run as r says, without reading or
// checking anything: for a plan shown before the rootfs's files can be
// read (create --dry-run), r holding the user and program as the config
// names them. Run only what Steps returns.
func StepsFor(cfg Config, r *Resolved) []step.Step {
	p := cfg.Process
	proc := cfg.Proc
	if proc == "" {
		proc = "/proc"
	}
	cwd := p.Cwd
	if cwd == "" {
		cwd = "/"
	}
	var s []step.Step
	if cfg.Hostname != "" {
		s = append(s, sethostnameStep(cfg.Hostname))
	}
	if cfg.Domainname != "" {
		s = append(s, setdomainnameStep(cfg.Domainname))
	}
	s = append(s, sysctlSteps(proc, cfg.Sysctl)...)
	s = append(s, rlimitSteps(p.Rlimits)...)
	if p.OOMScoreAdj != nil {
		s = append(s, oomScoreAdjStep(proc, *p.OOMScoreAdj))
	}
	s = append(s, cloexecStep(cfg.KeepFDs))
	chdir := &chdirState{path: cwd}
	s = append(s, chdir.first())
	s = append(s, cfg.BeforeUser...)
	if cfg.ChownStdio {
		s = append(s, stdioOwnerStep(r.UID))
	}
	s = append(s, userSteps(r)...)
	s = append(s, cfg.AfterUser...)
	s = append(s, chdir.retry())
	if p.User.Umask != nil {
		s = append(s, umaskStep(*p.User.Umask))
	}
	if p.NoNewPrivileges {
		s = append(s, noNewPrivsStep())
	}
	s = append(s, cfg.Last...)
	s = append(s, ExecStep(r.Path, r.Args, r.Env))
	return s
}
