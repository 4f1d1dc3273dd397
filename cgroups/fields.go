package cgroups

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// fieldController names, for each limit field of Resources, the
// controller whose writer writes it (the v1 hierarchy's name; "unified"
// for v2 files given by name). A set step is
// made per controller from exactly these fields, so a field ToResources
// fills is either written by a step or, if missing here, caught by
// TestEveryResourcesFieldHasAController.
var fieldController = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"CpusetCpus": "cpuset", "CpusetMems": "cpuset",

		"Memory": "memory", "MemoryReservation": "memory", "MemorySwap": "memory",
		"MemorySwappiness": "memory", "OomKillDisable": "memory",

		"CpuShares": "cpu", "CpuWeight": "cpu", "CpuQuota": "cpu", "CpuPeriod": "cpu", "CpuBurst": "cpu",
		"CpuRtRuntime": "cpu", "CpuRtPeriod": "cpu", "CPUIdle": "cpu",

		"PidsLimit": "pids",

		"BlkioWeight": "blkio", "BlkioLeafWeight": "blkio", "BlkioWeightDevice": "blkio",
		"BlkioThrottleReadBpsDevice": "blkio", "BlkioThrottleWriteBpsDevice": "blkio",
		"BlkioThrottleReadIOPSDevice": "blkio", "BlkioThrottleWriteIOPSDevice": "blkio",

		"HugetlbLimit":     "hugetlb",
		"Devices":          "devices",
		"NetClsClassid":    "net_cls",
		"NetPrioIfpriomap": "net_prio",
		"Rdma":             "rdma",
		"Unified":          "unified",
	}
})

// notLimits are the Resources fields that say how Set works, not what it
// writes; they never make a step of their own.
var notLimits = []string{
	"SkipDevices",             // devices rules are given (a devices step) or not
	"MemoryCheckBeforeUpdate", // refuse a memory limit below usage (update)
}

// only copies the fields of r that controller ctrl writes, plus the
// fields that say how to write them.
func only(ctrl string, r *Resources) *Resources {
	p := &Resources{SkipDevices: ctrl != "devices", MemoryCheckBeforeUpdate: r.MemoryCheckBeforeUpdate}
	src, dst := reflect.ValueOf(r).Elem(), reflect.ValueOf(p).Elem()
	for i := 0; i < src.NumField(); i++ {
		if fieldController()[src.Type().Field(i).Name] == ctrl {
			dst.Field(i).Set(src.Field(i))
		}
	}
	return p
}

// describe prints the non-zero limit fields of part, by runc's field
// names ("CPUIdle=1 BlkioThrottleReadBpsDevice=[8:0 1048576]"): the
// values the step hands to Set, with no second model of the files Set
// writes (the read-back shows those). Empty when part sets nothing.
func describe(part *Resources) string {
	v := reflect.ValueOf(part).Elem()
	var out []string
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		if slices.Contains(notLimits, name) || v.Field(i).IsZero() {
			continue
		}
		out = append(out, name+"="+format(v.Field(i)))
	}
	return strings.Join(out, " ")
}

// format prints one field value: the kernel's own syntax where the
// type has it (a ThrottleDevice's "8:0 1048576", a device rule's
// "c 1:3 rw"), otherwise Go's.
func format(v reflect.Value) string {
	if v.Kind() == reflect.Struct && v.CanInterface() {
		if s, ok := v.Interface().(fmt.Stringer); ok {
			return s.String() // a DeviceRule: "c 1:3 rwm"
		}
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "nil"
		}
		if v.CanInterface() {
			if s, ok := v.Interface().(interface{ CgroupString() string }); ok {
				return s.CgroupString()
			}
			if s, ok := v.Interface().(fmt.Stringer); ok {
				return s.String()
			}
		}
		return format(v.Elem())
	}
	switch v.Kind() {
	case reflect.Slice:
		var el []string
		for i := 0; i < v.Len(); i++ {
			el = append(el, format(v.Index(i)))
		}
		return "[" + strings.Join(el, ", ") + "]"
	case reflect.Map:
		// Sorted as strings: a SortFunc over reflect.Values would add a
		// sort instantiation of its own to the binary (12 KiB).
		el := map[string]string{}
		var keys []string
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
			el[k.String()] = k.String() + "=" + format(v.MapIndex(k))
		}
		slices.Sort(keys)
		for i, k := range keys {
			keys[i] = el[k]
		}
		return "{" + strings.Join(keys, " ") + "}"
	case reflect.Struct:
		return "{" + strings.Join(structFields(v), " ") + "}"
	}
	return fmt.Sprint(v) // fmt prints the value a reflect.Value holds
}

// structFields are "Name:value" for each field but nil pointers,
// embedded structs flattened (a WeightDevice's Major and Minor).
func structFields(v reflect.Value) []string {
	var out []string
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		switch {
		case f.Anonymous && f.Type.Kind() == reflect.Struct:
			out = append(out, structFields(v.Field(i))...)
		case v.Field(i).Kind() != reflect.Pointer || !v.Field(i).IsNil():
			out = append(out, f.Name+":"+format(v.Field(i)))
		}
	}
	return out
}
