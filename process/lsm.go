package process

import (
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/procfs"
	"github.com/ctr-lite/ctr-lite/step"
)

// AppArmorEnabled: AppArmor has its securityfs directory and the module
// parameter reads "Y" (runc's apparmor.IsEnabled). The parameter alone
// says "Y" on kernels built with AppArmor that did not start it (lsm=),
// where /proc/thread-self/attr/apparmor/exec does not exist.
func AppArmorEnabled() bool {
	if _, err := os.Stat("/sys/kernel/security/apparmor"); err != nil {
		return false
	}
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.HasPrefix(string(b), "Y")
}

// SELinuxEnabled: selinuxfs is mounted where the kernel exposes it.
func SELinuxEnabled() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/selinux", &st) == nil && uint32(st.Type) == uint32(unix.SELINUX_MAGIC)
}

// CheckLSM refuses a label the host cannot apply (config.md
// "apparmorProfile", "selinuxLabel"): running the container unconfined
// when a profile was asked for would be silently weaker.
func CheckLSM(p *specs.Process) error {
	if p.ApparmorProfile != "" && !AppArmorEnabled() {
		return errorf("process.apparmorProfile %q: AppArmor is not enabled on this host", p.ApparmorProfile)
	}
	if p.SelinuxLabel != "" && !SELinuxEnabled() {
		return errorf("process.selinuxLabel %q: SELinux is not enabled on this host", p.SelinuxLabel)
	}
	return nil
}

// LSMSteps set the label the next execve(2) switches to: AppArmor's
// "exec PROFILE" and SELinux's context, both written to this thread's
// attr/exec (proc(5)).
func LSMSteps(p *specs.Process) []step.Step {
	var s []step.Step
	if p.ApparmorProfile != "" {
		s = append(s, attrExecStep("attr/apparmor/exec", "exec "+p.ApparmorProfile))
	}
	if p.SelinuxLabel != "" {
		s = append(s, attrExecStep("attr/exec", p.SelinuxLabel))
	}
	return s
}

// attrExecStep writes value to this thread's attr file rel (under
// /proc/thread-self), through package procfs: "thread-self" is a symlink,
// which procfs never follows, so the thread is named by PID and TID (the
// caller's thread is locked; the kernel refuses a write to another
// task's attr/exec).
func attrExecStep(rel, value string) step.Step {
	return step.Step{
		Op:   "write /proc/thread-self/" + rel,
		Args: fmt.Sprintf("%q", value),
		Why:  "the LSM label takes effect at execve",
		Do: func() error {
			return procfs.Write("/proc", fmt.Sprintf("%d/task/%d/%s", os.Getpid(), unix.Gettid(), rel), value)
		},
	}
}
