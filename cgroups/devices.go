package cgroups

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/moby/sys/userns"
	lcg "github.com/opencontainers/cgroups"
)

// setDevicesV1 writes r's device rules to the v1 devices controller in
// the order they are given (config-linux.md "devices": entries are
// applied in order): "a *:* rwm" to devices.deny first, so the group
// starts from an empty allow-list whatever it inherited, then each rule
// to devices.allow or devices.deny. The kernel keeps its exceptions in
// the order they were added, so devices.list reads back in the config's
// order. The library's own pass comes last: its emulator refuses the
// rules runc refuses (a hole punched in a wildcard rule, which v1
// silently ignores) and, as the kernel already holds what the rules
// mean, writes nothing more.
//
// A group that has processes already (update, `cgroup set`) gets only
// the library's minimal transition instead: no moment of deny-all.
func (m *Manager) setDevicesV1(r *lcg.Resources) error {
	dir := m.dir("devices")
	if dir == "" || userns.RunningInUserNS() || r.SkipDevices {
		return m.lib.Set(r)
	}
	procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return err
	}
	if len(procs) > 0 {
		return m.lib.Set(r)
	}
	write := func(file, rule string) error {
		f, err := os.OpenFile(filepath.Join(dir, file), os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return err
		}
		_, err = f.WriteString(rule)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %q to %s: %w", rule, filepath.Join(dir, file), err)
		}
		return nil
	}
	if err := write("devices.deny", "a *:* rwm"); err != nil {
		return err
	}
	for _, d := range r.Devices {
		file := "devices.deny"
		if d.Allow {
			file = "devices.allow"
		}
		if err := write(file, d.CgroupString()); err != nil {
			return err
		}
	}
	return m.lib.Set(r)
}
