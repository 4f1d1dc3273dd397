#!/bin/sh
# 07: a whole container - the OCI lifecycle (runtime.md) built from 01-06.
#
# A bundle is a directory with a root filesystem and a config.json that
# names every piece the earlier examples showed one at a time: the
# namespaces, the mounts, the capabilities, the cgroup limits, the seccomp
# profile, the process. `create` sets all of it up and leaves the process
# waiting; `start` lets it run; `delete` removes what is left.
set -eu
# The bundle (config.json) and the state (--root) go in a scratch
# directory of our own; config.json names $ROOTFS by its absolute path.
work=$(mktemp -d)
bundle=$work/bundle
root=$work/ctr-root
id=web-$$
mkdir "$bundle"
# If a step fails, leave nothing behind (nor the file the process waits
# for, so that the example runs again).
trap 'ctr-lite --root "$root" delete --force "$id" 2>/dev/null; rm -f "$ROOTFS/tmp/stop"; rm -rf "$work"' EXIT
echo "scratch files in $work (removed at exit)"

echo "== 1. a config.json: runc's defaults, then our edits"
ctr-lite spec --bundle "$bundle"
# No terminal; a process that waits for a file to appear, so we can look
# at it while it runs; a 32 MiB memory limit.
sed -i -e 's/"terminal": true/"terminal": false/' \
	-e 's/^\(\t*\)"sh"$/\1"sh", "-c", "while [ ! -e \/tmp\/stop ]; do sleep 0.1; done"/' \
	-e 's/"resources": {/"resources": { "memory": { "limit": 33554432 },/' \
	-e 's/"readonly": true/"readonly": false/' \
	-e "s|\"path\": \"rootfs\"|\"path\": \"$ROOTFS\"|" "$bundle/config.json"
grep -A3 '"args"' "$bundle/config.json"

echo "== 2. create: everything in place, the process blocked on a FIFO"
# --explain prints each kernel step: the fork into new namespaces, the
# cgroup files, every mount, pivot_root, the capability drops, and where
# the init stops to wait (open of the exec FIFO).
ctr-lite --root "$root" --explain create --bundle "$bundle" "$id" 2>"$work/explain" >/dev/null
echo "kernel steps so far: $(grep -cE '^explain\[(create|init)\]' "$work/explain")"
test "$(grep -cE '^explain\[(create|init)\]' "$work/explain")" -gt 20
grep -E 'pivot_root|open\(/proc/self/fd/[0-9]+, O_WRONLY\)' "$work/explain" | cut -c1-100
ctr-lite --root "$root" state "$id" | tee "$work/state.json"
grep -q '"status": "created"' "$work/state.json"
pid=$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$work/state.json")

echo "== 3. what the kernel shows for pid $pid before start"
# Its own namespaces (the inodes differ from ours) ...
for ns in pid mnt net uts ipc; do
	test "$(readlink /proc/$pid/ns/$ns)" != "$(readlink /proc/self/ns/$ns)"
done
# ... its capabilities already dropped to runc's three, and its cgroup.
grep -E '^(CapBnd|NoNewPrivs)' /proc/$pid/status
grep -q 'CapBnd:	0000000020000420' /proc/$pid/status
grep -E ':memory:|^0::' /proc/$pid/cgroup

echo "== 4. start, exec, stop, delete"
ctr-lite --root "$root" start "$id"
ctr-lite --root "$root" exec "$id" sh -c 'echo "inside: pid $$, hostname $(hostname)"; touch /tmp/stop'
while ctr-lite --root "$root" state "$id" | grep -q '"running"'; do sleep 0.1; done
ctr-lite --root "$root" list
ctr-lite --root "$root" delete "$id"
test -z "$(ctr-lite --root "$root" list -q)"
echo "deleted: no state, no cgroup, no mount left"
