package caps

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/step"
)

const (
	chown = capability.CAP_CHOWN
	kill  = capability.CAP_KILL
	nbs   = capability.CAP_NET_BIND_SERVICE
)

func TestFromSpec(t *testing.T) {
	l := func(s ...string) []string { return s }
	for _, tc := range []struct {
		name    string
		spec    *specs.LinuxCapabilities
		last    Cap
		want    Set
		wantErr string
	}{
		{
			name: "runc spec default",
			spec: RuncDefault(), last: 40,
			want: Set{Bounding: 0x20000420, Effective: 0x20000420, Permitted: 0x20000420},
		},
		{
			name: "case and prefix do not matter",
			spec: &specs.LinuxCapabilities{Bounding: l("chown", "CAP_KILL"), Permitted: l("Cap_Chown"), Effective: l("CHOWN")},
			last: 40,
			want: Set{Bounding: MaskOf(chown, kill), Permitted: MaskOf(chown), Effective: MaskOf(chown)},
		},
		{
			name: "inheritable and ambient only when asked",
			spec: &specs.LinuxCapabilities{
				Bounding: l("CAP_NET_BIND_SERVICE"), Permitted: l("CAP_NET_BIND_SERVICE"),
				Inheritable: l("CAP_NET_BIND_SERVICE"), Ambient: l("CAP_NET_BIND_SERVICE"),
			},
			last: 40,
			want: Set{Bounding: MaskOf(nbs), Permitted: MaskOf(nbs), Inheritable: MaskOf(nbs), Ambient: MaskOf(nbs)},
		},
		{
			name: "known here, not by an older kernel: ignored once",
			spec: &specs.LinuxCapabilities{Bounding: l("CAP_BPF", "CAP_KILL", "CAP_CHECKPOINT_RESTORE"), Permitted: l("CAP_BPF")},
			last: 38,
			want: Set{Bounding: MaskOf(kill), Ignored: []string{"CAP_BPF", "CAP_CHECKPOINT_RESTORE"}},
		},
		{
			// runc 1.1 warns and ignores a name nobody knows, as it
			// does one the kernel lacks: each listed once.
			name: "unknown to everyone: ignored once",
			spec: &specs.LinuxCapabilities{Bounding: l("CAP_KILL", "CAP_FLY"), Effective: l("CAP_SYS_ADMN"), Permitted: l("CAP_FLY")},
			last: 40,
			want: Set{Bounding: MaskOf(kill), Ignored: []string{"CAP_FLY", "CAP_SYS_ADMN"}},
		},
		{
			name:    "effective not permitted",
			spec:    &specs.LinuxCapabilities{Bounding: l("CAP_KILL"), Effective: l("CAP_KILL", "CAP_CHOWN"), Permitted: l("CAP_KILL")},
			last:    40,
			wantErr: "effective CAP_CHOWN not in permitted",
		},
		{
			// runc's own `runc spec` (1.1) writes ambient without
			// inheritable; runc warns and runs it.
			name: "ambient not inheritable: left out, as runc",
			spec: &specs.LinuxCapabilities{Bounding: l("CAP_KILL"), Permitted: l("CAP_KILL"), Ambient: l("CAP_KILL")},
			last: 40,
			want: Set{Bounding: MaskOf(kill), Permitted: MaskOf(kill), Unraisable: MaskOf(kill)},
		},
		{
			name:    "inheritable outside bounding",
			spec:    &specs.LinuxCapabilities{Bounding: l("CAP_KILL"), Inheritable: l("CAP_CHOWN")},
			last:    40,
			wantErr: "inheritable CAP_CHOWN not in bounding",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fromSpec(tc.spec, tc.last)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Last = tc.last
			if !equalSet(*got, tc.want) {
				t.Errorf("got %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func equalSet(a, b Set) bool {
	return a.Bounding == b.Bounding && a.Effective == b.Effective && a.Permitted == b.Permitted &&
		a.Inheritable == b.Inheritable && a.Ambient == b.Ambient && a.Last == b.Last &&
		strings.Join(a.Ignored, ",") == strings.Join(b.Ignored, ",")
}

func TestFromSpecNilKeepsCapabilities(t *testing.T) {
	s, err := FromSpec(nil)
	if err != nil || s != nil {
		t.Fatalf("FromSpec(nil) = %v, %v", s, err)
	}
	if len(s.BoundingSteps()) != 0 || len(s.ApplySteps()) != 0 || s.Spec() != nil {
		t.Error("a nil Set has steps")
	}
}

func TestSpecRoundTrip(t *testing.T) {
	s, err := fromSpec(DockerDefault(), 40)
	if err != nil {
		t.Fatal(err)
	}
	back, err := fromSpec(s.Spec(), 40)
	if err != nil || !equalSet(*back, *s) {
		t.Errorf("round trip: %+v, %v; want %+v", back, err, s)
	}
}

func TestParseList(t *testing.T) {
	last2 := func() (Cap, error) { return 2, nil }
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", []string{}, ""},
		{"none", []string{}, ""},
		{"chown, kill", []string{"CAP_CHOWN", "CAP_KILL"}, ""},
		{"all", []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH"}, ""},
		{"ALL", []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH"}, ""},
		{"runc-default", []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}, ""},
		{"kill,CAP_FOO", nil, `unknown capability "CAP_FOO"`},
	} {
		got, err := parseList(tc.in, last2)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseList(%q) error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("parseList(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	d, err := parseList("docker-default", last2)
	if err != nil || len(d) != 14 {
		t.Errorf("docker-default = %v, %v", d, err)
	}
	boom := errors.New("no /proc")
	if _, err := parseList("all", func() (Cap, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Errorf("all without the kernel's last cap: %v", err)
	}
}

func TestStepsDescribeWhatTheyDo(t *testing.T) {
	s := &Set{Bounding: MaskOf(chown, kill, nbs), Effective: MaskOf(chown, kill), Permitted: MaskOf(chown, kill, nbs),
		Inheritable: MaskOf(nbs), Ambient: MaskOf(nbs), Last: 40}
	b := s.BoundingSteps()
	if len(b) != 1 || b[0].String() != "prctl(PR_CAPBSET_DROP, {all but CAP_CHOWN,CAP_KILL,CAP_NET_BIND_SERVICE})  # "+b[0].Why {
		t.Errorf("bounding steps: %v", b)
	}
	a := s.ApplySteps()
	var got []string
	for _, st := range a {
		got = append(got, st.Op+"("+st.Args+")")
	}
	want := []string{
		"capset(effective=CAP_CHOWN,CAP_KILL permitted=CAP_CHOWN,CAP_KILL,CAP_NET_BIND_SERVICE inheritable=CAP_NET_BIND_SERVICE)",
		"prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)",
		"prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_BIND_SERVICE)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("apply steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Keeping every capability drops nothing.
	full := &Set{Bounding: UpTo(40), Last: 40}
	if n := len(full.BoundingSteps()); n != 0 {
		t.Errorf("full bounding set gives %d steps", n)
	}
	few := &Set{Bounding: UpTo(40) &^ MaskOf(capability.CAP_SYS_MODULE), Last: 40}
	if b := few.BoundingSteps(); len(b) != 1 || b[0].Args != "PR_CAPBSET_DROP, {CAP_SYS_MODULE}" {
		t.Errorf("drop one: %v", b)
	}
}

// The steps change the calling thread only: run them on a locked thread
// that is thrown away after (a goroutine that exits locked takes its
// thread with it), and check that thread and the test's own.
func TestStepsApplyToCallingThreadOnly(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_SETPCAP)")
	}
	s, err := FromSpec(&specs.LinuxCapabilities{
		Bounding: []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"}, Effective: []string{"CAP_KILL"},
		Permitted: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"}, Inheritable: []string{"CAP_NET_BIND_SERVICE"},
		Ambient: []string{"CAP_NET_BIND_SERVICE"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Hold this thread, so the goroutine below runs on another one.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := ReadStatus(0)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		st  Status
		err error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		var r step.Runner
		err := r.Run(append(s.BoundingSteps(), s.ApplySteps()...)...)
		if err != nil {
			done <- result{err: err}
			return
		}
		st, err := ReadStatus(0)
		done <- result{st, err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	want := Status{Bounding: MaskOf(chown, kill, nbs), Effective: MaskOf(kill), Permitted: MaskOf(kill, nbs),
		Inheritable: MaskOf(nbs), Ambient: MaskOf(nbs)}
	if r.st != want {
		t.Errorf("thread after steps: %+v\nwant %+v", r.st, want)
	}
	after, err := ReadStatus(0)
	if err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("the test's thread changed: %+v -> %+v", before, after)
	}
}
