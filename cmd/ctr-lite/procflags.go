package main

import (
	"flag"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/process"
)

// procFlags are the process-hygiene flags any subcommand that execs a
// program can add to its own flag set: addProcFlags(fs), then
// pf.config(args) after parsing. (--hostname is the ns command's.)
type procFlags struct {
	user        string
	groups      string
	cwd         string
	env         listFlag
	rlimits     listFlag
	noNewPrivs  bool
	oomScoreAdj intFlag
	umask       string
	sysctls     listFlag
	keepFDs     listFlag
}

func addProcFlags(fs *flag.FlagSet) *procFlags {
	pf := &procFlags{}
	fs.StringVar(&pf.user, "user", "", "run as `USER[:GROUP]`: uid, uid:gid or names from the root's /etc/passwd and /etc/group")
	fs.StringVar(&pf.groups, "groups", "", "supplementary `GIDS`, comma-separated numbers or group names")
	fs.StringVar(&pf.cwd, "cwd", "", "working `DIR` (absolute; default /)")
	fs.Var(&pf.env, "env", "set `K=V` in the program's environment (repeatable; the environment holds only these, PATH and HOME)")
	fs.Var(&pf.rlimits, "rlimit", "`NAME=SOFT[:HARD]` resource limit, e.g. RLIMIT_NOFILE=100:200 or nofile=unlimited (repeatable)")
	fs.BoolVar(&pf.noNewPrivs, "no-new-privs", false, "set no_new_privs: setuid binaries and file capabilities grant nothing")
	fs.Var(&pf.oomScoreAdj, "oom-score-adj", "OOM killer bias `N`, -1000..1000 (lowering needs CAP_SYS_RESOURCE)")
	fs.StringVar(&pf.umask, "umask", "", "file mode creation mask, octal `MASK` (e.g. 027)")
	fs.Var(&pf.sysctls, "sysctl", "`K=V` namespaced sysctl to write to /proc/sys (repeatable; needs the matching namespace)")
	fs.Var(&pf.keepFDs, "keep-fd", "file descriptor `N` (>= 3) to keep open in the program (repeatable); all others are closed on exec")
	return pf
}

// config builds a process.Config for args from the flags. The caller adds
// Namespaces, Root and the caps/seccomp slots.
func (pf *procFlags) config(args []string) (process.Config, error) {
	cfg := process.Config{
		Process: specs.Process{
			Args:            args,
			Env:             pf.env,
			Cwd:             pf.cwd,
			NoNewPrivileges: pf.noNewPrivs,
		},
		UserSpec: pf.user,
	}
	if cfg.Process.Cwd == "" {
		cfg.Process.Cwd = "/"
	}
	for _, kv := range pf.env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return cfg, usagef("--env %q: want K=V", kv)
		}
	}
	if pf.groups != "" {
		cfg.Groups = strings.Split(pf.groups, ",")
	}
	for _, s := range pf.rlimits {
		r, err := process.ParseRlimit(s)
		if err != nil {
			return cfg, err
		}
		cfg.Process.Rlimits = append(cfg.Process.Rlimits, r)
	}
	if pf.oomScoreAdj.set {
		v := pf.oomScoreAdj.v
		cfg.Process.OOMScoreAdj = &v
	}
	if pf.umask != "" {
		m, err := strconv.ParseUint(pf.umask, 8, 32)
		if err != nil || m > 0o777 {
			return cfg, usagef("--umask %q: want an octal mask like 022", pf.umask)
		}
		m32 := uint32(m)
		cfg.Process.User.Umask = &m32
	}
	for _, kv := range pf.sysctls {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return cfg, usagef("--sysctl %q: want K=V", kv)
		}
		if cfg.Sysctl == nil {
			cfg.Sysctl = map[string]string{}
		}
		cfg.Sysctl[k] = v
	}
	for _, s := range pf.keepFDs {
		fd, err := strconv.Atoi(s)
		if err != nil {
			return cfg, usagef("--keep-fd %q: want a number", s)
		}
		cfg.KeepFDs = append(cfg.KeepFDs, fd)
	}
	return cfg, nil
}
