package container

import (
	"errors"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// apparmorEnabled: AppArmor has its securityfs directory and the module
// parameter reads "Y" (runc's apparmor.IsEnabled). The parameter alone
// says "Y" on kernels built with AppArmor that did not start it (lsm=),
// where /proc/thread-self/attr/apparmor/exec does not exist.
func apparmorEnabled() bool {
	if _, err := os.Stat("/sys/kernel/security/apparmor"); err != nil {
		return false
	}
	b, err := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	return err == nil && strings.HasPrefix(string(b), "Y")
}

// selinuxEnabled: selinuxfs is mounted where the kernel exposes it.
func selinuxEnabled() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/selinux", &st) == nil && uint32(st.Type) == uint32(unix.SELINUX_MAGIC)
}

// checkLSM refuses a label the host cannot apply: running the container
// unconfined when a profile was asked for would be silently weaker.
func checkLSM(p *specs.Process) error {
	if p.ApparmorProfile != "" && !apparmorEnabled() {
		return fmt.Errorf("process.apparmorProfile %q: AppArmor is not enabled on this host", p.ApparmorProfile)
	}
	if p.SelinuxLabel != "" && !selinuxEnabled() {
		return fmt.Errorf("process.selinuxLabel %q: SELinux is not enabled on this host", p.SelinuxLabel)
	}
	return nil
}

// lsmSteps set the label the next execve(2) switches to: AppArmor's
// "exec PROFILE" and SELinux's context, both written to this thread's
// attr/exec (proc(5)).
func lsmSteps(p *specs.Process) []step.Step {
	var s []step.Step
	if p.ApparmorProfile != "" {
		s = append(s, attrExecStep("/proc/thread-self/attr/apparmor/exec", "exec "+p.ApparmorProfile))
	}
	if p.SelinuxLabel != "" {
		s = append(s, attrExecStep("/proc/thread-self/attr/exec", p.SelinuxLabel))
	}
	return s
}

func attrExecStep(path, value string) step.Step {
	return step.Step{
		Op:   "write " + path,
		Args: fmt.Sprintf("%q", value),
		Why:  "the LSM label takes effect at execve",
		Do: func() error {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			var st unix.Statfs_t
			if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
				return err
			}
			if st.Type != unix.PROC_SUPER_MAGIC {
				return errors.New("not on a procfs")
			}
			_, err = f.Write([]byte(value))
			return err
		},
	}
}
