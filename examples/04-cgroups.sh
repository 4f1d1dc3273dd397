#!/bin/sh
# 04: cgroups - limits the kernel enforces on a group of processes
# (cgroups(7)).
#
# A cgroup is a directory. On cgroup v1 there is one per controller
# (/sys/fs/cgroup/memory/NAME, /sys/fs/cgroup/pids/NAME, ...), on v2 one
# directory (/sys/fs/cgroup/NAME) with every controller's files. Writing
# a file sets a limit; writing a pid to cgroup.procs moves a process in.
set -eu

cg=/ctr-lite-example-$$
# Scratch files go in a directory of our own; it and the cgroup are
# removed when we exit, even if a step below fails.
work=$(mktemp -d)
trap 'ctr-lite cgroup delete --kill $cg 2>/dev/null || true; rm -rf "$work"' EXIT
echo "scratch files in $work (removed at exit)"

echo "== 1. this host's layout: v1, v2 or hybrid, and which controllers where"
ctr-lite cgroup mode

echo "== 2. create a cgroup with a memory and a pids limit"
# --explain prints each mkdir and write, and what the kernel holds after.
ctr-lite cgroup --explain create $cg --memory 64m --pids-limit 10
ctr-lite cgroup show $cg > "$work/show"
grep -E 'memory.(limit_in_bytes|max) |pids.max ' "$work/show"
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then   # v2
	test "$(cat /sys/fs/cgroup$cg/memory.max)" = 67108864
	test "$(cat /sys/fs/cgroup$cg/pids.max)" = 10
else                                                 # v1 or hybrid
	test "$(cat /sys/fs/cgroup/memory$cg/memory.limit_in_bytes)" = 67108864
	test "$(cat /sys/fs/cgroup/pids$cg/pids.max)" = 10
fi

echo "== 3. a shell inside: /proc/self/cgroup names the group"
# /proc/PID/cgroup has one line per hierarchy: "ID:CONTROLLERS:PATH"
# (v2: "0::PATH"). The shell moves itself in and forks cat, which is
# born in the group.
cat > "$work/inside.sh" <<INSIDE
echo \$\$ > "$work/pid"
ctr-lite cgroup add $cg \$\$
cat /proc/self/cgroup
INSIDE
/bin/busybox sh "$work/inside.sh" > "$work/out"
cat "$work/out"
grep -q ":$cg\$" "$work/out"

echo "== 4. cgroup run with pids.max 3: the shell and 2 sleeps fit, the next fork fails"
# cgroup run = create + set + start CMD inside + wait + delete (EAGAIN
# from fork(2) is what busybox reports as "can't fork").
if ctr-lite cgroup run $cg-run --pids-limit 3 -- /bin/busybox sh -c \
	'for i in 1 2 3 4; do sleep 1 & done; wait' 2>"$work/err"; then
	echo "forks past pids.max succeeded"; exit 1
fi
cat "$work/err"
grep -q "can't fork" "$work/err"

echo "== 5. delete: rmdir in every hierarchy; nothing is left"
ctr-lite cgroup --explain delete $cg
test -z "$(ls -d /sys/fs/cgroup$cg /sys/fs/cgroup/*$cg 2>/dev/null)"
