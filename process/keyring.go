package process

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// SessionKeyringStep gives container id a session keyring of its own, as
// runc does unless --no-new-keyring: otherwise the container's processes
// would share the caller's session keyring and the keys in it
// (keyrings(7)). Named "_ses.ID" as runc names it, so an exec joins the
// container's by name; its user gets search permission added, so programs
// inside can look keys up in it. ENOSYS (a kernel without keys, or a
// seccomp filter refusing keyctl) is not an error.
func SessionKeyringStep(id string) step.Step {
	name := "_ses." + id
	return step.Step{
		Op:   "keyctl",
		Args: fmt.Sprintf("KEYCTL_JOIN_SESSION_KEYRING, %q", name),
		Why:  "a session keyring of the container's own, not the caller's",
		Do: func() error {
			kid, err := unix.KeyctlJoinSessionKeyring(name)
			if errors.Is(err, unix.ENOSYS) {
				return nil
			}
			if err != nil {
				return joinKeyringErr(err)
			}
			return addKeyPerm(kid, keyUsrSearch)
		},
	}
}

// addKeyPerm ORs bits into a key's permission mask: KEYCTL_DESCRIBE
// gives "type;uid;gid;perm;description" with perm in hex.
func addKeyPerm(kid int, bits uint32) error {
	desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, kid)
	if err != nil {
		return errorf("describe session keyring: %w", err)
	}
	f := strings.Split(desc, ";")
	if len(f) < 5 {
		return errorf("describe session keyring: unexpected %q", desc)
	}
	perm, err := strconv.ParseUint(f[3], 16, 32)
	if err != nil {
		return errorf("describe session keyring: %w", err)
	}
	if err := unix.KeyctlSetperm(kid, uint32(perm)|bits); err != nil {
		return setpermKeyringErr(err)
	}
	return nil
}

func joinKeyringErr(err error) error { return errorf("join session keyring: %w", err) }

func setpermKeyringErr(err error) error {
	return errorf("set session keyring permissions: %w", err)
}

// keyUsrSearch is KEY_USR_SEARCH (<linux/key.h>): the key's user may
// find it in a search (runc adds the same bit).
const keyUsrSearch = 0x00080000
