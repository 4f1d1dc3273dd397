#!/bin/sh
# 08: watching a container - its counters and its anatomy.
#
# What examples 01-07 set up, the kernel also reports. The cgroup counts
# CPU time, memory, processes, OOM kills and CPU throttling (cgroups(7));
# /proc/PID shows the namespaces, capabilities, seccomp mode, limits and
# mounts of the container's process (proc(5)). "ctr-lite stats" reads the
# first, "ctr-lite inspect" the second, each the way one would by hand.
set -eu
# Scratch files (the bundle, the state) go in a directory of our own; it,
# the container and its cgroup are removed when we exit.
work=$(mktemp -d)
bundle=$work/bundle
root=$work/ctr-root
id=watch-$$
cg=/ctr-lite-example-$$
evpid=
mkdir "$bundle"
trap 'ctr-lite --root "$root" delete --force "$id" 2>/dev/null; [ -z "$evpid" ] || kill $evpid 2>/dev/null; rm -rf "$work"' EXIT
echo "scratch files in $work (removed at exit)"

echo "== 1. a container that spins under a CPU quota of 20% and a 32 MiB memory limit"
ctr-lite spec --bundle "$bundle"
# The quota: 20 ms of CPU per 100 ms period (cpu.cfs_quota_us, cpu.max).
# swap = limit: no swap, so memory runs out at the limit.
sed -i -e 's/"terminal": true/"terminal": false/' \
	-e 's/^\(\t*\)"sh"$/\1"sh", "-c", "while :; do :; done"/' \
	-e 's/"resources": {/"resources": { "memory": { "limit": 33554432, "swap": 33554432 }, "cpu": { "quota": 20000, "period": 100000 },/' \
	-e "s|\"linux\": {|\"linux\": { \"cgroupsPath\": \"$cg\",|" \
	-e "s|\"path\": \"rootfs\"|\"path\": \"$ROOTFS\"|" "$bundle/config.json"
ctr-lite --root "$root" run -d --bundle "$bundle" "$id" < /dev/null > "$work/ctr.log" 2>&1 || { cat "$work/ctr.log"; exit 1; }
pid=$(ctr-lite --root "$root" state "$id" | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
echo "container $id: pid $pid, cgroup $cg"

echo "== 2. stats: what its cgroup counts"
# CPU % is the CPU time used over --interval (1s) per wall time: near 20.
# THROTTLED counts the periods in which the quota ran out, and for how
# long the process waited: the kernel's cpu.stat nr_throttled and
# throttled_time.
ctr-lite --root "$root" stats --no-stream "$id"
ctr-lite --root "$root" stats --no-stream --interval 100ms --format json "$id" > "$work/stats.json"
throttled=$(sed -n 's/.*"cpu_cfs_throttled_periods":\([0-9]*\).*/\1/p' "$work/stats.json")
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then cpustat=/sys/fs/cgroup$cg/cpu.stat   # v2
else cpustat=/sys/fs/cgroup/cpu$cg/cpu.stat; fi                                    # v1 or hybrid
echo "throttled periods: stats $throttled, then $cpustat: $(grep nr_throttled "$cpustat")"
test "$throttled" -gt 0
test "$(sed -n 's/^nr_throttled //p' "$cpustat")" -ge "$throttled"
grep -q '"memory_limit_bytes":33554432' "$work/stats.json"
# The same counters for Prometheus (node_exporter's textfile collector).
ctr-lite --root "$root" stats --format prometheus > "$work/metrics"
grep -E "^container_(memory_limit_bytes|oom_events_total|cpu_cfs_throttled_periods_total)\{id=\"$id\"" "$work/metrics"
grep -q "^container_memory_limit_bytes{id=\"$id\",name=\"$id\"} 33554432$" "$work/metrics"

echo "== 3. an OOM kill, as an event and counted"
# "events" waits for the kernel's OOM notification (v1: an eventfd on
# memory.oom_control; v2: memory.events). tail keeps the one endless
# "line" of /dev/zero in memory until the OOM killer kills it (SIGKILL:
# exit 137).
ctr-lite --root "$root" events --interval 1h "$id" > "$work/events" &
evpid=$!
sleep 0.5
rc=0
ctr-lite --root "$root" exec "$id" tail /dev/zero || rc=$?
echo "tail /dev/zero: exit $rc"
test "$rc" = 137
n=0
while ! grep -q '"type":"oom"' "$work/events"; do
	n=$((n + 1)); test "$n" -lt 100; sleep 0.1
done
cat "$work/events"
ctr-lite --root "$root" stats --no-stream --interval 100ms --format json "$id" | grep -o '"oom_kills":[0-9]*'
ctr-lite --root "$root" stats --no-stream --interval 100ms --format json "$id" | grep -q '"oom_kills":1,'

echo "== 4. inspect: the container's anatomy, beside the host"
# Each part says which file it comes from; compare with them by hand.
ctr-lite --root "$root" inspect "$id" | tee "$work/inspect"
grep -qE "^pid +$(readlink /proc/$pid/ns/pid | tr -dc 0-9) +[0-9]+ +own$" "$work/inspect"
grep -qE "^effective +$(grep '^CapEff:' /proc/$pid/status | cut -f2) " "$work/inspect"
grep -qE "^seccomp mode +$(grep '^Seccomp:' /proc/$pid/status | cut -f2) " "$work/inspect"
grep -qE "^hostname +$(ctr-lite ns --join uts=/proc/$pid/ns/uts -- hostname) " "$work/inspect"
ctr-lite --root "$root" inspect --format json "$id" | grep -q '"no_new_privs": true'

echo "== 5. delete: events ends with the container; nothing is left"
ctr-lite --root "$root" delete --force "$id"
wait "$evpid"
evpid=
test -z "$(ls -d /sys/fs/cgroup$cg /sys/fs/cgroup/*$cg 2>/dev/null)"
