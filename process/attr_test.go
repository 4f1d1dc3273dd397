package process

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// AttrSteps turns linux.personality and process.ioPriority into their
// steps, in order, with the arguments the kernel gets, and refuses what
// runc refuses; nothing runs.
func TestAttrStepsFromConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pers    *specs.LinuxPersonality
		io      *specs.LinuxIOPriority
		want    []string // "Op Args"
		wantErr string
	}{
		{name: "none"},
		{name: "linux32", pers: &specs.LinuxPersonality{Domain: specs.PerLinux32}, want: []string{"personality LINUX32"}},
		{name: "both in order", pers: &specs.LinuxPersonality{Domain: specs.PerLinux},
			io:   &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE, Priority: 7},
			want: []string{"personality LINUX", "ioprio_set IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE/7"}},
		{name: "unknown domain", pers: &specs.LinuxPersonality{Domain: "PER_BSD"}, wantErr: `linux.personality.domain "PER_BSD"`},
		{name: "flags", pers: &specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"ADDR_NO_RANDOMIZE"}}, wantErr: "linux.personality.flags"},
		{name: "unknown class", io: &specs.LinuxIOPriority{Class: "IOPRIO_CLASS_NONE"}, wantErr: `process.ioPriority.class "IOPRIO_CLASS_NONE"`},
		{name: "priority 8", io: &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 8}, wantErr: "process.ioPriority.priority 8"},
		{name: "priority -1", io: &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_RT, Priority: -1}, wantErr: "process.ioPriority.priority -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, err := AttrSteps(tc.pers, tc.io)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("AttrSteps = %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range steps {
				got = append(got, s.Op+" "+s.Args)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("steps = %q, want %q", got, tc.want)
			}
		})
	}
}
