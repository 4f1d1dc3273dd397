package process

import (
	"fmt"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// AttrRaw appends what AttrSteps' steps do: personality(2) and
// ioprio_set(2), either may be nil, in that order, one op each.
func AttrRaw(p *raw.Prog, pers *specs.LinuxPersonality, io *specs.LinuxIOPriority) error {
	if pers != nil {
		st, dom, err := personalityStep(pers)
		if err != nil {
			return err
		}
		sysOp(p, st, unix.SYS_PERSONALITY, dom)
	}
	if io != nil {
		st, val, err := ioPriorityStep(io)
		if err != nil {
			return err
		}
		sysOp(p, st, unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, val)
	}
	return nil
}

// SessionKeyringRaw appends what SessionKeyringStep does: keyctl(2)
// KEYCTL_JOIN_SESSION_KEYRING "_ses.ID" (ENOSYS: no keys, nothing more),
// then KEYCTL_SETPERM with KEY_USR_SEARCH added. The Go step reads the
// mask to add to (KEYCTL_DESCRIBE, text the child cannot parse); the
// raw op sets the mask the kernel gives a new session keyring
// (join_session_keyring: KEY_POS_ALL|KEY_USR_VIEW|KEY_USR_READ|
// KEY_USR_LINK) with the bit added. The same for a keyring made here; a
// keyring of that name that was joined (an exec joins its container's)
// gets that mask back if someone changed it.
func SessionKeyringRaw(p *raw.Prog, id string) error {
	name, err := p.Str("_ses." + id)
	if err != nil {
		return errorf("process: session keyring: %w", err)
	}
	kid := p.Reg()
	g := p.NewGroup(SessionKeyringStep(id))
	join := g.Add(raw.Op{Trap: unix.SYS_KEYCTL, Args: [6]uintptr{unix.KEYCTL_JOIN_SESSION_KEYRING, name}, Out: kid,
		Else: [2]syscall.Errno{unix.ENOSYS}}, step.Step{},
		func(e syscall.Errno) error { return joinKeyringErr(e) })
	g.Add(raw.Op{Trap: unix.SYS_KEYCTL, Args: [6]uintptr{unix.KEYCTL_SETPERM, 0, newSessionKeyringPerm | keyUsrSearch}, In: [6]raw.Reg{0, kid}},
		step.Step{Op: "keyctl", Args: fmt.Sprintf("KEYCTL_SETPERM, %#x", newSessionKeyringPerm|keyUsrSearch), Why: "its user may search it"},
		func(e syscall.Errno) error { return setpermKeyringErr(e) })
	p.JumpHere(join)
	return nil
}

// newSessionKeyringPerm is the mask join_session_keyring gives a new
// keyring (security/keys/process_keys.c): KEY_POS_ALL|KEY_USR_VIEW|
// KEY_USR_READ|KEY_USR_LINK.
const newSessionKeyringPerm = 0x3f000000 | 0x00010000 | 0x00020000 | 0x00100000

// LSMRaw appends what LSMSteps do: the AppArmor "exec PROFILE" and the
// SELinux context written to this thread's attr files through the
// container's /proc, with procfs.Write's checks (procWriteRaw). The
// thread is reached through "thread-self" (a symlink, not a magic link:
// RESOLVE_NO_MAGICLINKS still holds); the Go step names it by pid and
// tid, which the child cannot put in a path.
func LSMRaw(p *raw.Prog, pr *specs.Process) error {
	if !haveOpenat2() && (pr.ApparmorProfile != "" || pr.SelinuxLabel != "") {
		return &raw.NeedsGo{Why: "writes through a checked procfs need openat2(2) (Linux 5.6)"}
	}
	for _, a := range []struct{ rel, val string }{
		{"attr/apparmor/exec", "exec " + pr.ApparmorProfile},
		{"attr/exec", pr.SelinuxLabel},
	} {
		if a.val == "" || a.val == "exec " {
			continue
		}
		rel := "thread-self/" + a.rel
		if err := procWriteRaw(p, attrExecStep(a.rel, a.val), "/proc", rel, a.val, procViaSelf, nil); err != nil {
			return err
		}
	}
	return nil
}
