package cgroups

// The cgroup v2 writers: every controller's files in the one directory,
// each written as runc's (opencontainers/cgroups fs2) Set writes it
// (cgroup-v2.rst). differential_test.go runs the library beside them and
// compares the files.

import (
	"bufio"
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// v2Root is where the unified hierarchy is mounted on a v2 host.
const v2Root = "/sys/fs/cgroup"

// setV2 writes controller ctrl's part of r into dir.
func setV2(ctrl, dir string, r *Resources) error {
	switch ctrl {
	case "cpuset":
		return setCpusetV1(dir, r) // the same two files: cpuset.cpus, cpuset.mems
	case "memory":
		return setMemoryV2(dir, r)
	case "cpu":
		return setCPUV2(dir, r)
	case "pids":
		return setPids(dir, r)
	case "blkio":
		return setIOV2(dir, r)
	case "hugetlb":
		return setHugetlb(dir, r, ".max")
	case "rdma":
		return setRdma(dir, r)
	case "unified":
		return setUnified(dir, r.Unified)
	}
	return nil
}

// v2Value is an int64 limit in v2 syntax: "" for 0 (not set), "max" for
// -1.
func v2Value(v int64) string {
	switch v {
	case 0:
		return ""
	case unlimited:
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// setMemoryV2 writes memory.swap.max (the swap alone: the spec's
// memory+swap minus the limit), memory.max and memory.low. Without swap
// accounting there is no memory.swap.max; "no swap limit" and "no swap"
// are then true anyway and not an error.
func setMemoryV2(dir string, r *Resources) error {
	if r.Memory == 0 && r.MemorySwap == 0 && r.MemoryReservation == 0 {
		return nil
	}
	if err := checkMemoryUsage(dir, r); err != nil {
		return err
	}
	swap, err := swapToV2(r.MemorySwap, r.Memory)
	if err != nil {
		return err
	}
	s := v2Value(swap)
	if s == "" && r.MemorySwap > 0 {
		s = "0" // memory+swap equal to the limit: no swap
	}
	if s != "" {
		if err := writeFile(dir, "memory.swap.max", s); err != nil && !(errors.Is(err, os.ErrNotExist) && (s == "max" || s == "0")) {
			return err
		}
	}
	if v := v2Value(r.Memory); v != "" {
		if err := writeFile(dir, "memory.max", v); err != nil {
			return err
		}
	}
	if v := v2Value(r.MemoryReservation); v != "" {
		return writeFile(dir, "memory.low", v)
	}
	return nil
}

// checkMemoryUsage refuses, for an update, a limit at or below what the
// group uses now: v2 would not refuse it but OOM-kill to meet it.
func checkMemoryUsage(dir string, r *Resources) error {
	if !r.MemoryCheckBeforeUpdate || (r.Memory <= 0 && r.MemorySwap <= 0) {
		return nil
	}
	usage, err := readUint(dir, "memory.current")
	if err != nil {
		return nil //nolint:nilerr // no usage to compare with (runc ignores it too)
	}
	if r.MemorySwap > 0 && uint64(r.MemorySwap) <= usage {
		return errorf("rejecting memory+swap limit %d <= usage %d", r.MemorySwap, usage)
	}
	if r.Memory > 0 && uint64(r.Memory) <= usage {
		return errorf("rejecting memory limit %d <= usage %d", r.Memory, usage)
	}
	return nil
}

// setCPUV2 writes cpu.idle, cpu.weight, then cpu.max "QUOTA PERIOD"
// (quota "max" for none, period 100000 µs when not given); the burst
// goes before cpu.max, or after it when the kernel refuses it (EINVAL)
// for the old quota.
func setCPUV2(dir string, r *Resources) error {
	if r.CPUIdle != nil {
		if err := writeFile(dir, "cpu.idle", strconv.FormatInt(*r.CPUIdle, 10)); err != nil {
			return err
		}
	}
	if r.CpuWeight != 0 {
		if err := writeFile(dir, "cpu.weight", strconv.FormatUint(r.CpuWeight, 10)); err != nil {
			return err
		}
	}
	burst := ""
	if r.CpuBurst != nil {
		v := strconv.FormatUint(*r.CpuBurst, 10)
		if err := writeFile(dir, "cpu.max.burst", v); err != nil {
			if !errors.Is(err, unix.EINVAL) || r.CpuQuota == 0 {
				return err
			}
			burst = v
		}
	}
	if r.CpuQuota != 0 || r.CpuPeriod != 0 {
		quota := "max"
		if r.CpuQuota > 0 {
			quota = strconv.FormatInt(r.CpuQuota, 10)
		}
		period := r.CpuPeriod
		if period == 0 {
			period = 100000 // the kernel's default
		}
		if err := writeFile(dir, "cpu.max", quota+" "+strconv.FormatUint(period, 10)); err != nil {
			return err
		}
		if burst != "" {
			return writeFile(dir, "cpu.max.burst", burst)
		}
	}
	return nil
}

// setIOV2 writes the weight to io.bfq.weight (BFQ, same 10..1000 scale)
// if the kernel has it, else io.weight converted to 1..10000; per-device
// weights only to io.bfq.weight, and only where it takes them (it reads
// "default N" then one device per line); the throttles to io.max, one
// per write.
func setIOV2(dir string, r *Resources) error {
	var bfq *os.File
	if r.BlkioWeight != 0 || len(r.BlkioWeightDevice) > 0 {
		f, err := openFile(dir, "io.bfq.weight", os.O_RDWR)
		switch {
		case err == nil:
			bfq = f
			defer f.Close()
		case !os.IsNotExist(err):
			return err
		}
	}
	if r.BlkioWeight != 0 {
		if bfq != nil {
			if _, err := bfq.WriteString(strconv.FormatUint(uint64(r.BlkioWeight), 10)); err != nil {
				return errorf("write %d to %s: %w", r.BlkioWeight, bfq.Name(), err)
			}
		} else if err := writeFile(dir, "io.weight", strconv.FormatUint(blkioToIOWeight(r.BlkioWeight), 10)); err != nil {
			return err
		}
	}
	if bfqTakesDevices(bfq) {
		for _, d := range r.BlkioWeightDevice {
			line := d.weightLine(d.Weight)
			if _, err := bfq.WriteString(line + "\n"); err != nil {
				return errorf("setting device weight %q: %w", line, err)
			}
		}
	}
	for _, t := range []struct {
		key  string
		devs []*ThrottleDevice
	}{
		{"rbps", r.BlkioThrottleReadBpsDevice},
		{"wbps", r.BlkioThrottleWriteBpsDevice},
		{"riops", r.BlkioThrottleReadIOPSDevice},
		{"wiops", r.BlkioThrottleWriteIOPSDevice},
	} {
		for _, d := range t.devs {
			if err := writeFile(dir, "io.max", d.ioMax(t.key)); err != nil {
				return err
			}
		}
	}
	return nil
}

// bfqTakesDevices tells whether io.bfq.weight is the newer multi-line
// file ("default 100", then "MAJOR:MINOR WEIGHT" lines, Linux 5.4),
// not a lone number.
func bfqTakesDevices(bfq *os.File) bool {
	if bfq == nil {
		return false
	}
	_, _ = bfq.Seek(0, 0)
	buf := make([]byte, 32)
	_, _ = bfq.Read(buf)
	_, err := strconv.ParseInt(string(bytes.TrimSpace(buf)), 10, 64)
	return err != nil
}

// setUnified writes each file as given, one line per write, in name
// order. A missing or forbidden file gets a message naming the
// controller when that controller is not enabled for the group.
func setUnified(dir string, files map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(files)) {
		if strings.Contains(k, "/") {
			return errorf("unified resource %q must be a file name (no slashes)", k)
		}
		err := writeLines(dir, k, files[k])
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrPermission) || errors.Is(err, os.ErrNotExist) {
			c, _, ok := strings.Cut(k, ".")
			if !ok {
				return errorf("unified resource %q must be in the form CONTROLLER.PARAMETER", k)
			}
			ctrls, _ := readFile(dir, "cgroup.controllers")
			if c != "cgroup" && !slices.Contains(strings.Fields(ctrls), c) {
				return errorf("unified resource %q can't be set: controller %q not available", k, c)
			}
		}
		return errorf("unable to set unified resource %q: %w", k, err)
	}
	return nil
}

// domainLimits tells whether r limits a domain controller (memory, io,
// cpu, hugetlb), which a threaded group cannot have.
func domainLimits(r *Resources) bool {
	return r.Memory != 0 || r.MemoryReservation != 0 || r.MemorySwap != 0 ||
		r.BlkioWeight != 0 || len(r.BlkioWeightDevice) > 0 || len(r.BlkioThrottleReadBpsDevice) > 0 ||
		len(r.BlkioThrottleWriteBpsDevice) > 0 || len(r.BlkioThrottleReadIOPSDevice) > 0 || len(r.BlkioThrottleWriteIOPSDevice) > 0 ||
		r.CpuWeight != 0 || r.CpuQuota != 0 || r.CpuPeriod != 0 || r.CPUIdle != nil || r.CpuBurst != nil ||
		len(r.HugetlbLimit) > 0
}

// mkdirV2 makes dir (below /sys/fs/cgroup) and the groups above it.
// Every group on the way enables all the root's controllers for its
// children (cgroup.subtree_control "+cpu +memory ..."; one by one if
// the kernel refuses the lot), so the new group has their files. A group
// in "domain invalid" state becomes threaded if r limits no domain
// controller; a threaded one with such limits is refused. On error the
// directories made are removed.
func mkdirV2(dir string, r *Resources) (err error) {
	if !strings.HasPrefix(dir, v2Root) {
		return errorf("invalid cgroup path %s", dir)
	}
	ctrls, err := readFile(v2Root, "cgroup.controllers")
	if err != nil {
		return err
	}
	enable := "+" + strings.Join(strings.Fields(ctrls), " +")
	elems := strings.Split(dir, "/")[3:] // "cgroup", then the path below the root
	cur := "/sys/fs"
	for i, e := range elems {
		cur = filepath.Join(cur, e)
		if i > 0 {
			if err := os.Mkdir(cur, 0o755); err == nil {
				made := cur
				defer func() {
					if err != nil {
						os.Remove(made)
					}
				}()
			} else if !os.IsExist(err) {
				return err
			}
			typ, _ := readFile(cur, "cgroup.type")
			switch typ = strings.TrimSpace(typ); typ {
			case "domain invalid":
				if domainLimits(r) {
					return errorf("cannot enter cgroupv2 %q with domain controllers -- it is in an invalid state", cur)
				}
				_ = writeFile(cur, "cgroup.type", "threaded")
			case "domain threaded", "threaded":
				if domainLimits(r) {
					return errorf("cannot enter cgroupv2 %q with domain controllers -- it is in %s mode", cur, typ)
				}
			}
		}
		if i < len(elems)-1 {
			if err := writeFile(cur, "cgroup.subtree_control", enable); err != nil {
				for _, c := range strings.Split(enable, " ") {
					_ = writeFile(cur, "cgroup.subtree_control", c)
				}
			}
		}
	}
	return nil
}

// freezeV2 writes cgroup.freeze and waits until the kernel reports the
// state (cgroup.events "frozen 1", up to 10 s). A kernel without the
// v2 freezer (before 5.2) cannot freeze; thawing is then a no-op.
func freezeV2(dir string, freeze bool) error {
	f, err := openFile(dir, "cgroup.freeze", unix.O_RDWR)
	if err != nil {
		if !freeze {
			return nil
		}
		return errorf("freezer not supported: %w", err)
	}
	defer f.Close()
	v := "0"
	if freeze {
		v = "1"
	}
	if _, err := f.WriteString(v); err != nil {
		return errorf("write %s to %s: %w", v, f.Name(), err)
	}
	got, err := readFreeze(dir, f)
	if err != nil {
		return err
	}
	if got != freeze {
		return errorf("expected \"cgroup.freeze\" to be %s, but it is not", v)
	}
	return nil
}

// frozenV2 reads cgroup.freeze (false when the kernel has none).
func frozenV2(dir string) (bool, error) {
	f, err := openFile(dir, "cgroup.freeze", unix.O_RDONLY)
	if err != nil {
		return false, ignoreGone(err)
	}
	defer f.Close()
	return readFreeze(dir, f)
}

func readFreeze(dir string, f *os.File) (bool, error) {
	if _, err := f.Seek(0, 0); err != nil {
		return false, ignoreGone(err)
	}
	b := make([]byte, 2)
	if _, err := f.Read(b); err != nil {
		return false, ignoreGone(err)
	}
	switch string(b) {
	case "0\n":
		return false, nil
	case "1\n":
		return waitFrozen(dir)
	}
	return false, errorf("unknown \"cgroup.freeze\" state: %q", b)
}

// waitFrozen polls cgroup.events until "frozen 1": cgroup.freeze is
// what was asked, the event is when every task has stopped.
func waitFrozen(dir string) (bool, error) {
	f, err := openFile(dir, "cgroup.events", unix.O_RDONLY)
	if err != nil {
		return false, err
	}
	defer f.Close()
	const wait, tries = 10 * time.Millisecond, 1000
	s := bufio.NewScanner(f)
	for i := 0; s.Scan(); {
		if i == tries {
			return false, errorf("timeout of %s reached waiting for the cgroup to freeze", wait*tries)
		}
		if v, ok := strings.CutPrefix(s.Text(), "frozen "); ok {
			if v != "" && v[0] == '1' {
				return true, nil
			}
			i++
			time.Sleep(wait)
			if _, err := f.Seek(0, 0); err != nil {
				return false, err
			}
			s = bufio.NewScanner(f)
		}
	}
	return false, s.Err()
}
