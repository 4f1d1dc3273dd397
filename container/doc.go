// Package container is the OCI lifecycle (runtime.md): create, start,
// state, kill, delete, and the operations runc adds (exec, pause, resume,
// update, events, ps, list). It composes the kernel packages
// (namespaces, rootfs, caps, cgroups, seccomp, process) and keeps each
// container's state on disk under a root directory, one directory per ID.
package container
