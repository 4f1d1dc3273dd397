package seccomp

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

func TestLoadRaw(t *testing.T) {
	native, err := NativeArch()
	if err != nil {
		t.Fatal(err)
	}
	compile := func(flags []specs.LinuxSeccompFlag, act specs.LinuxSeccompAction) *Filter {
		t.Helper()
		f, err := Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: flags,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdirat"}, Action: act}}}, native)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	tests := []struct {
		name  string
		f     *Filter
		traps []uintptr
		jumps []int32
	}{
		// No flags: seccomp(2), or prctl(PR_SET_SECCOMP) on ENOSYS.
		{"no flags", compile(nil, specs.ActErrno), []uintptr{unix.SYS_SECCOMP, raw.Goto, unix.SYS_PRCTL}, []int32{2, 3, 0}},
		// A flag only seccomp(2) takes: no fallback.
		{"log", compile([]specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_LOG"}, specs.ActErrno), []uintptr{unix.SYS_SECCOMP}, []int32{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &raw.Prog{Explain: true}
			if err := LoadRaw(p, tt.f); err != nil {
				t.Fatal(err)
			}
			var traps []uintptr
			var jumps []int32
			for _, o := range p.Ops {
				traps, jumps = append(traps, o.Trap), append(jumps, o.Jump)
			}
			if len(traps) != len(tt.traps) || len(jumps) != len(tt.jumps) {
				t.Fatalf("traps %v jumps %v, want %v %v", traps, jumps, tt.traps, tt.jumps)
			}
			for i := range traps {
				if traps[i] != tt.traps[i] || jumps[i] != tt.jumps[i] {
					t.Errorf("traps %v jumps %v, want %v %v", traps, jumps, tt.traps, tt.jumps)
				}
			}
			o := p.Ops[0]
			if o.Args[0] != unix.SECCOMP_SET_MODE_FILTER || o.Args[1] != uintptr(tt.f.Flags) || o.Args[2] == 0 {
				t.Errorf("seccomp args %v", o.Args)
			}
			st := LoadStep(tt.f, nil)
			if p.Steps[0].String() != st.String() || o.SayLen == 0 {
				t.Errorf("described as %q, want %q", p.Steps[0], st)
			}
			for i := range p.Ops {
				if p.Ops[i].Trap == raw.Goto {
					continue
				}
				for _, e := range []syscall.Errno{unix.EACCES, unix.EINVAL} {
					want := (&step.Error{Step: st, Err: loadErr(tt.f, e)}).Error()
					if got := p.Error(i, e).Error(); got != want {
						t.Errorf("op %d %v: %s, want %s", i, e, got, want)
					}
				}
			}
			if !strings.Contains(p.Error(0, unix.EACCES).Error(), "set no_new_privs first") {
				t.Errorf("EACCES: %v", p.Error(0, unix.EACCES))
			}
		})
	}
	var ng *raw.NeedsGo
	notify := compile(nil, specs.ActErrno)
	notify.Flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER // as Compile sets it for SCMP_ACT_NOTIFY
	if err := LoadRaw(&raw.Prog{}, notify); !errors.As(err, &ng) {
		t.Errorf("a listener: %v", err)
	}
	// With a listener: seccomp into a register, stored into the message,
	// sent, closed, the answer read and compared a word at a time.
	p := &raw.Prog{Explain: true}
	sock := p.Reg()
	if err := LoadRawListener(p, notify, RawListener{Sock: sock, Msg: []byte("m"), Ack: []byte("0123456789")}); err != nil {
		t.Fatal(err)
	}
	word := int(unsafe.Sizeof(uintptr(0)))
	want := []uintptr{unix.SYS_SECCOMP, raw.Store, unix.SYS_SENDMSG, unix.SYS_CLOSE, unix.SYS_RECVFROM}
	for i := 0; i < 10/word+10%word; i++ {
		want = append(want, raw.Eq)
	}
	var traps []uintptr
	for _, o := range p.Ops {
		traps = append(traps, o.Trap)
	}
	if fmt.Sprint(traps) != fmt.Sprint(want) {
		t.Errorf("listener ops %v, want %v", traps, want)
	}
	lfd := p.Ops[0].Out
	if lfd == 0 || p.Ops[1].In[1] != lfd || p.Ops[3].In[0] != lfd || p.Ops[2].In[0] != sock || p.Ops[4].In[0] != sock ||
		!p.Ops[2].Check || p.Ops[2].Want != 1 || p.Ops[4].Want != 10 || p.Ops[5].Args[3] != uintptr(word) {
		t.Errorf("listener ops %+v", p.Ops)
	}
	if p.Steps[0].String() != LoadStep(notify, nil).String() || p.Ops[0].SayLen == 0 || p.Ops[1].SayLen != 0 {
		t.Errorf("described as %q", p.Steps[0])
	}
	if got := p.Error(2, unix.EPIPE).Error(); !strings.HasSuffix(got, ": send seccomp listener fd to the runtime: broken pipe") {
		t.Errorf("sendmsg error %s", got)
	}
	if err := LoadRawListener(&raw.Prog{}, compile(nil, specs.ActErrno), RawListener{Sock: sock, Msg: []byte("m"), Ack: []byte("a")}); err == nil {
		t.Error("a filter without a listener is taken")
	}
}
