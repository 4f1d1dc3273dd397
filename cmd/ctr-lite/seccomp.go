package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/ctr-lite/ctr-lite/seccomp"
)

var seccompCommand = &command{
	name:  "seccomp",
	args:  "--profile FILE [--no-new-privs=false] -- CMD [ARG...] | dump [--arch ARCH] FILE | check [--arch ARCH] FILE",
	short: "run a command under a seccomp profile; print or check the BPF a profile compiles to",
	long: `FILE holds an OCI linux.seccomp object, or a whole config.json whose
linux.seccomp is used. ctr-lite compiles it to classic BPF itself (no
libseccomp). The program checks the ABI of each syscall first: one the
profile does not list (int 0x80 or x32 calls on x86_64) kills the process.

  dump FILE    the BPF program, one instruction a line with what it checks
  check FILE   validate the profile and summarize it
  --arch ARCH  the native ABI to compile for (default: this host's), e.g.
               amd64, arm64, SCMP_ARCH_S390X

Running a command: the filter is loaded on this thread right before
execve, after prctl(PR_SET_NO_NEW_PRIVS) (needed without CAP_SYS_ADMIN),
so the profile must allow execve. /proc/PID/status then shows
"Seccomp: 2" and "Seccomp_filters: 1". With --explain the execve line is
written after the filter is loaded, so write(2) must be allowed too.
Under a default action that refuses calls, a syscall numbered above every
one the profile names fails with ENOSYS (as with runc), so programs fall
back to older calls. SCMP_ACT_NOTIFY needs a seccomp agent: containers
send it the listener (linux.seccomp.listenerPath); here nobody listens
and notified syscalls fail with ENOSYS.`,
	flags: func(fs *flag.FlagSet) {
		fs.String("profile", "", "seccomp profile `FILE` to run CMD under")
		fs.Bool("no-new-privs", true, "set no_new_privs before loading the filter")
		fs.String("arch", "", "native `ARCH` to compile for (dump, check)")
	},
	run: runSeccomp,
}

func runSeccomp(g *globals, fs *flag.FlagSet, args []string) error {
	profile := fs.Lookup("profile").Value.String()
	arch := fs.Lookup("arch").Value.String()
	if profile != "" {
		if arch != "" {
			return usagef("--arch is for dump and check: a command runs under the host's ABI")
		}
		nnp, _ := strconv.ParseBool(fs.Lookup("no-new-privs").Value.String())
		return seccompRun(g, profile, nnp, args)
	}
	if len(args) == 0 {
		return usagef("give --profile FILE -- CMD [ARG...], or dump FILE, or check FILE")
	}
	sub := args[0]
	if sub != "dump" && sub != "check" {
		return usagef("unknown subcommand %q: want dump or check, or --profile FILE to run a command", sub)
	}
	rest, help, err := subFlags(g, "seccomp", sub, "[--arch ARCH] FILE", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&arch, "arch", arch, "native `ARCH` to compile for")
	})
	if help || err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("%s takes one FILE", sub)
	}
	f, err := seccompCompile(rest[0], arch)
	if err != nil {
		return err
	}
	if sub == "dump" {
		return f.Dump(g.stdout)
	}
	fmt.Fprintf(g.stdout, "%s: profile ok\n", rest[0])
	return f.Summary(g.stdout)
}

// seccompCompile reads FILE and compiles it for arch ("" = the host's).
func seccompCompile(file, arch string) (*seccomp.Filter, error) {
	var native seccomp.Arch
	var err error
	if arch == "" {
		native, err = seccomp.NativeArch()
	} else {
		native, err = seccomp.LookupArch(arch)
	}
	if err != nil {
		return nil, errorf("--arch: %w", err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, errorf("seccomp profile: %w", err)
	}
	cfg, err := seccomp.Decode(data)
	if err != nil {
		return nil, errorf("seccomp profile %s: %w", file, err)
	}
	f, err := seccomp.Compile(cfg, native)
	if err != nil {
		return nil, errorf("seccomp profile %s: %w", file, err)
	}
	return f, nil
}

// seccompRun runs args under the profile: no_new_privs, the filter, execve,
// all on one locked thread.
func seccompRun(g *globals, profile string, nnp bool, args []string) error {
	if len(args) == 0 {
		return usagef("missing command: give --profile FILE -- CMD [ARG...]")
	}
	f, err := seccompCompile(profile, "")
	if err != nil {
		return err
	}
	return seccomp.Exec(f, nnp, args, os.Environ(), g.runner("seccomp"))
}
