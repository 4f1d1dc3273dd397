#!/bin/sh
# demo.sh CTR_LITE ROOTFS: what `make demo` runs (see README).
#
# Part 1 builds a container by hand from the primitives, each a command of
# its own: a memory-limited cgroup, new namespaces, a new root, then only
# three capabilities. Part 2 runs an OCI container with the lifecycle
# commands, as runc would. Add --explain to any command to watch each
# kernel step as it happens.
set -eu
ctr=${1:?usage: demo.sh CTR_LITE ROOTFS}
rootfs=${2:?usage: demo.sh CTR_LITE ROOTFS}
ctr=$(cd "$(dirname "$ctr")" && pwd)/$(basename "$ctr")
bundle=$(dirname "$rootfs")
root=/run/ctr-lite-demo

# What each container shows about itself.
cat >"$rootfs/show.sh" <<'SH'
echo "  hostname $(hostname), pid $$, uid $(id -u), $(wc -l </proc/self/mountinfo) mounts, root: $(echo $(ls /))"
grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status | sed 's/^/  /'
echo "  cgroups: $(grep -E ':(memory|pids):' /proc/self/cgroup | tr '\n' ' ')"
SH

echo "== 1. the primitives, one after the other"
echo "   cgroup run (64 MiB, 64 pids) -> ns (new mnt,uts,ipc,pid,net) -> rootfs (pivot_root) -> caps (3 left) -> sh"
# The last step runs inside the new root, so the binary goes there too:
# capabilities are dropped after pivot_root, which needs CAP_SYS_ADMIN.
cp "$ctr" "$rootfs/bin/ctr-lite"
"$ctr" cgroup run /ctr-lite-demo --memory 64m --pids-limit 64 -- \
	"$ctr" ns --new mnt,uts,ipc,pid,net --hostname demo -- \
	"$ctr" rootfs --proc --dev "$rootfs" -- \
	/bin/ctr-lite caps --all CAP_KILL,CAP_NET_BIND_SERVICE,CAP_AUDIT_WRITE -- \
	/bin/sh /show.sh
rm -f "$rootfs/bin/ctr-lite"

echo "== 2. an OCI container: spec, run -d, exec, events, delete"
rm -f "$bundle/config.json"
"$ctr" spec --bundle "$bundle"
# No terminal, a long-running process, and a 64 MiB memory limit.
sed -i -e 's/"terminal": true/"terminal": false/' \
	-e 's/^\(\t*\)"sh"$/\1"sleep", "60"/' \
	-e 's/"resources": {/"resources": { "memory": { "limit": 67108864 },/' "$bundle/config.json"
"$ctr" --root "$root" run --detach --bundle "$bundle" demo
"$ctr" --root "$root" list
"$ctr" --root "$root" exec demo /bin/sh /show.sh
echo "  memory limit seen by the kernel: $("$ctr" --root "$root" events --stats demo | grep -o '"limit":[0-9]*' | head -1)"
"$ctr" --root "$root" delete --force demo
rm -f "$rootfs/show.sh"
echo "== done: $("$ctr" --root "$root" list -q | wc -l) containers left"
