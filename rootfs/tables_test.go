package rootfs

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOptionTablesUnique: no option word is in a table twice or in two
// tables (the maps they were refused duplicate keys at compile time), and
// lookups find each entry.
func TestOptionTablesUnique(t *testing.T) {
	seen := map[string]bool{}
	add := func(name string) {
		if seen[name] {
			t.Errorf("option %q listed twice", name)
		}
		seen[name] = true
	}
	for _, o := range flagOptions {
		add(o.name)
		if got, ok := lookupFlagOption(o.name); !ok || got != o {
			t.Errorf("lookupFlagOption(%q) = %v, %v", o.name, got, ok)
		}
	}
	for _, o := range recAttrOptions {
		add(o.name)
		if got, ok := lookupRecAttr(o.name); !ok || got != o {
			t.Errorf("lookupRecAttr(%q) = %v, %v", o.name, got, ok)
		}
	}
	for _, o := range propagationOptions {
		add(o.name)
		if got, ok := lookupPropagation(o.name); !ok || got != o.flag {
			t.Errorf("lookupPropagation(%q) = %#x, %v", o.name, got, ok)
		}
	}
	types := map[string]bool{}
	for _, o := range bareDataOptions {
		if types[o.typ] {
			t.Errorf("type %q listed twice", o.typ)
		}
		types[o.typ] = true
	}
	if w, listed := lookupBareData("tmpfs"); !listed || !slices.Contains(w, "inode64") {
		t.Errorf("lookupBareData(tmpfs) = %v, %v", w, listed)
	}
	if w, listed := lookupBareData("ext4"); listed || w != nil {
		t.Errorf("lookupBareData(ext4) = %v, %v: want not listed", w, listed)
	}
	if f, ok := lookupPropagation("rslave"); !ok || f != unix.MS_SLAVE|unix.MS_REC {
		t.Errorf("lookupPropagation(rslave) = %#x, %v", f, ok)
	}
	if _, ok := lookupFlagOption("nope"); ok {
		t.Error("lookupFlagOption(nope) found")
	}
	if opts := MountOptions(); len(opts) != len(seen)+1 || !slices.IsSorted(opts) {
		t.Errorf("MountOptions() = %d words (want %d), sorted %v", len(opts), len(seen)+1, slices.IsSorted(opts))
	}
	for _, typ := range []string{"proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2", "bind"} {
		if !knownType(typ) {
			t.Errorf("knownType(%q) false", typ)
		}
	}
	if knownType("ext4") {
		t.Error("knownType(ext4) true")
	}
}
