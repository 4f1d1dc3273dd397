package cgroups

// Device rules on the real kernel (root): the eBPF filter on a cgroup2
// directory and the v1 devices lists, checked by a child process that
// opens devices from inside the group.

import (
	"bufio"
	"crypto/sha1"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// devOpenEnv makes the test binary a child that waits for a line on
// stdin (its parent moves it into a cgroup meanwhile), then opens each
// "path:flags" of the variable's value and prints "path:flags=ok" or the
// error.
const devOpenEnv = "CTR_LITE_TEST_DEVOPEN"

func init() {
	spec := os.Getenv(devOpenEnv)
	if spec == "" {
		return
	}
	bufio.NewReader(os.Stdin).ReadString('\n')
	for _, pf := range strings.Fields(spec) {
		p, mode, _ := strings.Cut(pf, ":")
		flags := os.O_RDONLY
		if mode == "w" {
			flags = os.O_WRONLY
		}
		f, err := os.OpenFile(p, flags, 0)
		if err != nil {
			fmt.Printf("%s=%v\n", pf, err.(*os.PathError).Err)
			continue
		}
		f.Close()
		fmt.Printf("%s=ok\n", pf)
	}
	os.Exit(0)
}

// openFromGroup runs the child: join moves it into the group (pid given).
// cgroupFd >= 0 starts it there instead (clone3 CLONE_INTO_CGROUP).
func openFromGroup(t *testing.T, cgroupFd int, join func(pid int), opens ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), devOpenEnv+"="+strings.Join(opens, " "))
	if cgroupFd >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cgroupFd}
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if join != nil {
		join(cmd.Process.Pid)
	}
	in.Write([]byte("go\n"))
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, out.String())
	}
	return strings.TrimSpace(out.String())
}

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (the integration suite and the CI run as root)")
	}
}

func hierarchy(t *testing.T, version int, ctrl string) string {
	t.Helper()
	hs, err := Hierarchies()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.Version == version && (ctrl == "" || strings.Contains(" "+strings.Join(h.Controllers, " ")+" ", " "+ctrl+" ")) {
			return h.Mountpoint
		}
	}
	return ""
}

// attachedTags gives the tags of the device programs attached to dir.
func attachedTags(t *testing.T, dir string) []string {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	progs, err := attachedDeviceFilters(fd)
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, p := range progs {
		tags = append(tags, progInfoTag(t, p))
		unix.Close(p)
	}
	return tags
}

// progInfoTag gives a loaded program's tag (BPF_OBJ_GET_INFO_BY_FD,
// struct bpf_prog_info up to tag).
func progInfoTag(t *testing.T, fd int) string {
	t.Helper()
	var info struct {
		typ, id uint32
		tag     [unix.BPF_TAG_SIZE]byte
	}
	attr := struct {
		fd, len uint32
		info    uint64
	}{uint32(fd), uint32(unsafe.Sizeof(info)), uint64(uintptr(unsafe.Pointer(&info)))}
	if _, err := bpfSys(unix.BPF_OBJ_GET_INFO_BY_FD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		t.Fatal(err)
	}
	if info.typ != unix.BPF_PROG_TYPE_CGROUP_DEVICE {
		t.Errorf("program %d has type %d", info.id, info.typ)
	}
	return fmt.Sprintf("%x", info.tag)
}

// progTag is the kernel's tag of a program (bpf_prog_calc_tag: the first
// 8 bytes of a hash of its instructions, SHA-1 before Linux 6.18, SHA-256
// since), as the kernel in use computes it: the one of the two that the
// first program it loads has.
func progTag(t *testing.T, insns []bpfInsn) string {
	code := marshalBPF(insns, nativeOrder)
	s1, s256 := sha1.Sum(code), sha256.Sum256(code)
	if kernelTagIsSHA256(t) {
		return fmt.Sprintf("%x", s256[:unix.BPF_TAG_SIZE])
	}
	return fmt.Sprintf("%x", s1[:unix.BPF_TAG_SIZE])
}

var tagSHA256 *bool

func kernelTagIsSHA256(t *testing.T) bool {
	if tagSHA256 == nil {
		probe := []bpfInsn{{code: opMovK32, dst: 0, imm: 1}, {code: opExit}}
		fd, err := bpfProgLoad(probe, "MIT")
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		tag := progInfoTag(t, fd)
		s256 := sha256.Sum256(marshalBPF(probe, nativeOrder))
		is := tag == fmt.Sprintf("%x", s256[:unix.BPF_TAG_SIZE])
		tagSHA256 = &is
	}
	return *tagSHA256
}

var (
	ruleDenyAll  = DeviceRule{Type: 'a', Major: -1, Minor: -1, Access: "rwm"}
	ruleNull     = DeviceRule{Type: 'c', Major: 1, Minor: 3, Access: "rwm", Allow: true}
	ruleZero     = DeviceRule{Type: 'c', Major: 1, Minor: 5, Access: "rwm", Allow: true}
	ruleURandomR = DeviceRule{Type: 'c', Major: 1, Minor: 9, Access: "r", Allow: true}
)

// TestDeviceFilterOnTheKernel: the program setDevicesV2 attaches to a
// cgroup2 directory lets a process in it open exactly what the rules
// allow; new rules replace it (one program attached, the new one), also
// when others were attached besides; the group goes away with nothing
// left.
func TestDeviceFilterOnTheKernel(t *testing.T) {
	needRoot(t)
	mnt := hierarchy(t, 2, "")
	if mnt == "" {
		t.Skip("no cgroup2 hierarchy mounted")
	}
	dir := filepath.Join(mnt, fmt.Sprintf("ctr-lite-devtest-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Remove(dir)
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%s left behind", dir)
		}
	})
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	opens := []string{"/dev/null:w", "/dev/zero:r", "/dev/urandom:r", "/dev/urandom:w"}

	for _, step := range []struct {
		name  string
		extra bool // attach another program first
		rules []DeviceRule
		want  string
	}{
		{"null, urandom read", false, []DeviceRule{ruleDenyAll, ruleNull, ruleURandomR},
			"/dev/null:w=ok /dev/zero:r=operation not permitted /dev/urandom:r=ok /dev/urandom:w=operation not permitted"},
		{"replaced: zero, null taken back", false, []DeviceRule{ruleDenyAll, ruleNull, ruleZero, {Type: 'c', Major: 1, Minor: 3, Access: "w"}},
			"/dev/null:w=operation not permitted /dev/zero:r=ok /dev/urandom:r=operation not permitted /dev/urandom:w=operation not permitted"},
		{"deny-list, two programs attached before", true, []DeviceRule{{Type: 'a', Major: -1, Minor: -1, Access: "rwm", Allow: true}, {Type: 'c', Major: 1, Minor: 9, Access: "w"}},
			"/dev/null:w=ok /dev/zero:r=ok /dev/urandom:r=ok /dev/urandom:w=operation not permitted"},
	} {
		if step.extra {
			prog, err := bpfProgLoad([]bpfInsn{{code: opMovK32, dst: 0, imm: 1}, {code: opExit}}, "MIT")
			if err != nil {
				t.Fatal(err)
			}
			if err := bpfProgAttach(fd, prog, unix.BPF_F_ALLOW_MULTI, 0); err != nil {
				t.Fatal(err)
			}
			unix.Close(prog)
			if n := len(attachedTags(t, dir)); n != 2 {
				t.Fatalf("%s: %d programs attached before, want 2", step.name, n)
			}
		}
		if err := setDevicesV2(dir, step.rules); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		insns, err := deviceFilter(step.rules)
		if err != nil {
			t.Fatal(err)
		}
		if tags, want := attachedTags(t, dir), progTag(t, insns); len(tags) != 1 || tags[0] != want {
			t.Errorf("%s: attached programs' tags %v, want only ours, %s", step.name, tags, want)
		}
		got := strings.ReplaceAll(openFromGroup(t, fd, nil, opens...), "\n", " ")
		if got != step.want {
			t.Errorf("%s: from inside the group:\n got %s\nwant %s", step.name, got, step.want)
		}
	}
	// A refused rule set leaves the group's filter as it was.
	before := attachedTags(t, dir)
	hole := []DeviceRule{ruleDenyAll, {Type: 'c', Major: 1, Minor: -1, Access: "rwm", Allow: true}, {Type: 'c', Major: 1, Minor: 3, Access: "rwm"}}
	if err := setDevicesV2(dir, hole); err == nil || !strings.Contains(err.Error(), "cannot punch hole") {
		t.Errorf("a hole in a wildcard: error %v", err)
	}
	if after := attachedTags(t, dir); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("a refused set changed the programs: %v, then %v", before, after)
	}
	// Through the Manager (update of a v2 group): its devices step is ours.
	m, err := Load("/"+filepath.Base(dir), Unified, map[string]string{"": dir})
	if err != nil {
		t.Fatal(err)
	}
	null := int64(3)
	one := int64(1)
	spec := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}, {Allow: true, Type: "c", Major: &one, Minor: &null, Access: "rw"}}
	steps, err := m.UpdateSteps(&specs.LinuxResources{Devices: spec})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if err := s.Do(); err != nil {
			t.Fatalf("%s %s: %v", s.Op, s.Args, err)
		}
	}
	rules, err := DeviceRulesFromSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	insns, err := deviceFilter(rules)
	if err != nil {
		t.Fatal(err)
	}
	if tags, want := attachedTags(t, dir), progTag(t, insns); len(tags) != 1 || tags[0] != want {
		t.Errorf("after the Manager's update: attached programs' tags %v, want only ours, %s", tags, want)
	}
	if got, want := strings.ReplaceAll(openFromGroup(t, fd, nil, "/dev/null:w", "/dev/zero:r"), "\n", " "), "/dev/null:w=ok /dev/zero:r=operation not permitted"; got != want {
		t.Errorf("after the Manager's update, from inside the group:\n got %s\nwant %s", got, want)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
}

// TestDevicesV1OnTheKernel: a fresh v1 group gets deny-all then the
// allowed exceptions in runc's order (major, minor, type), and
// devices.list reads back in that order; with a process in it, new rules
// are the minimal transition and the process sees them.
func TestDevicesV1OnTheKernel(t *testing.T) {
	needRoot(t)
	mnt := hierarchy(t, 1, "devices")
	if mnt == "" {
		t.Skip("no v1 devices hierarchy (a pure cgroup v2 host); TestDeviceFilterOnTheKernel covers v2")
	}
	dir := filepath.Join(mnt, fmt.Sprintf("ctr-lite-devtest-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Remove(dir)
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%s left behind", dir)
		}
	})
	list := func() string {
		b, err := os.ReadFile(filepath.Join(dir, "devices.list"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if got := list(); got != "a *:* rwm" {
		t.Fatalf("a fresh group's devices.list: %q", got)
	}
	rules := []DeviceRule{ruleDenyAll, ruleZero, ruleNull, ruleURandomR, {Type: 'b', Major: 8, Minor: -1, Access: "mr", Allow: true}}
	if err := setDevicesV1(dir, rules); err != nil {
		t.Fatal(err)
	}
	if got, want := list(), "c 1:3 rwm\nc 1:5 rwm\nc 1:9 r\nb 8:* rm"; got != want {
		t.Errorf("devices.list:\n%s\nwant (runc's order):\n%s", got, want)
	}

	// A process in the group; then null is taken back, urandom may be
	// written too: the transition, no deny-all.
	opens := []string{"/dev/null:w", "/dev/zero:r", "/dev/urandom:w"}
	update := []DeviceRule{ruleDenyAll, ruleZero, {Type: 'c', Major: 1, Minor: 9, Access: "rw", Allow: true}, {Type: 'b', Major: 8, Minor: -1, Access: "mr", Allow: true}}
	got := openFromGroup(t, -1, func(pid int) {
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(fmt.Sprint(pid)), 0); err != nil {
			t.Fatal(err)
		}
		current, err := devListFromKernel(list())
		if err != nil {
			t.Fatal(err)
		}
		target, err := devListFromRules(update)
		if err != nil {
			t.Fatal(err)
		}
		if w := fmt.Sprint(current.transition(target)); w != "[c 1:3 rwm c 1:9 w]" {
			t.Errorf("transition %s", w)
		}
		if err := setDevicesV1(dir, update); err != nil {
			t.Fatal(err)
		}
	}, opens...)
	if want := "/dev/null:w=operation not permitted\n/dev/zero:r=ok\n/dev/urandom:w=ok"; got != want {
		t.Errorf("from inside the group:\n%s\nwant\n%s", got, want)
	}
	if got, want := list(), "c 1:5 rwm\nc 1:9 rw\nb 8:* rm"; got != want {
		t.Errorf("devices.list after the update:\n%s\nwant:\n%s", got, want)
	}
	// A hole in a wildcard is refused before anything is written.
	if err := setDevicesV1(dir, []DeviceRule{ruleDenyAll, {Type: 'b', Major: 8, Minor: -1, Access: "rwm", Allow: true}, {Type: 'b', Major: 8, Minor: 0, Access: "r"}}); err == nil || !strings.Contains(err.Error(), "cannot punch hole") {
		t.Errorf("a hole: error %v", err)
	}
	if got, want := list(), "c 1:5 rwm\nc 1:9 rw\nb 8:* rm"; got != want {
		t.Errorf("devices.list after a refused set:\n%s\nwant:\n%s", got, want)
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
}
