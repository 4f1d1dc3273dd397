// Package cgroups puts processes in control groups and limits what they
// may use: memory, pids, CPU time and placement, block I/O weights and
// throttles, huge pages, device access, network class and priority, and
// RDMA handles (cgroups(7)).
//
// The kernel offers two interfaces. cgroup v1 has one hierarchy per
// controller (/sys/fs/cgroup/memory, /sys/fs/cgroup/pids, ...), so a
// container's cgroup is one directory in each. cgroup v2 has a single
// hierarchy (/sys/fs/cgroup) where a directory has every controller its
// parent enabled in cgroup.subtree_control. A "hybrid" host mounts the v1
// controllers and also a cgroup2 hierarchy at /sys/fs/cgroup/unified with
// no (or few) controllers; a runtime uses the v1 controllers there and
// joins the v2 cgroup of the same name too, as runc does.
//
// The files are written as runc 1.1 writes them (its library,
// opencontainers/cgroups: fs for v1, fs2 for v2), by ctr-lite's own code:
// v1.go and v2.go write the limits, devices_v1.go and devices_v2.go the
// device rules (v1 allow/deny lists, the v2 eBPF filter), paths.go
// resolves a cgroup path as runc does, stats.go reads the counters. The
// library is a test dependency only: the differential tests run it beside
// these writers on the same files and want the same writes, in the same
// order, and the same stats. This package converts the OCI runtime-spec's
// LinuxResources to Resources, validates them, and turns each operation
// into step.Steps that --explain shows together with the values the
// kernel holds afterwards. A set step is one controller's part of the
// Resources (fieldController says which fields), described by the very
// values handed to the writer; a field the host has no file for is
// refused by name, never dropped.
package cgroups
