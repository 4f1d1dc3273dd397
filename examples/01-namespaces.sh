#!/bin/sh
# 01: namespaces - the same kernel, a different view (namespaces(7)).
#
# Every process is in one namespace of each of eight kinds: mnt, uts, ipc,
# pid, net, user, cgroup, time. /proc/PID/ns/<kind> names it; readlink
# shows "kind:[inode]" and two processes share a namespace exactly when the
# inode numbers are equal. "ctr-lite ns" starts a program in new ones
# (unshare(2)) or in those of another process (setns(2)).
set -eu
# Scratch files go in a directory of our own, removed when we exit.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "scratch files in $work (removed at exit)"

echo "== 1. our own namespaces"
ours_uts=$(readlink /proc/self/ns/uts)
ours_pid=$(readlink /proc/self/ns/pid)
host_name=$(cat /proc/sys/kernel/hostname)
echo "$ours_uts $ours_pid hostname=$host_name"

echo "== 2. a shell in new UTS and PID namespaces"
# The UTS namespace holds the hostname: --hostname calls sethostname(2)
# inside it before execve, and the host keeps its name. In a new PID
# namespace the shell is PID 1 (ctr-lite forks it from an intermediate
# process: unshare(CLONE_NEWPID) only moves the caller's children).
ctr-lite ns --new uts,pid --hostname demo -- /bin/busybox sh -c \
	'cat /proc/sys/kernel/hostname; echo $$; readlink /proc/self/ns/uts; readlink /proc/self/ns/pid' \
	| tee "$work/inside"
set -- $(cat "$work/inside")
test "$1" = demo            # its own hostname...
test "$2" = 1               # ...it is PID 1...
test "$3" != "$ours_uts"    # ...and the inodes changed: new namespaces
test "$4" != "$ours_pid"
test "$(cat /proc/sys/kernel/hostname)" = "$host_name"   # the host is untouched

echo "== 3. what the kernel did, step by step"
# --explain prints each syscall: the fork, unshare with the CLONE_NEW*
# flags, sethostname, the second fork for the PID namespace, execve.
ctr-lite ns --explain --new uts,pid --hostname demo -- /bin/busybox true 2> "$work/explain"
grep -E '\]: (unshare|sethostname|clone|execve)' "$work/explain"
grep -q 'unshare(CLONE_NEWUTS|CLONE_NEWPID)' "$work/explain"

echo "== 4. ns show: which namespaces a running process has of its own"
# A sleeper in new UTS and net namespaces; it writes its pid to a file.
ctr-lite ns --new uts,net -- /bin/busybox sh -c "echo \$\$ > $work/pid; exec sleep 60" &
while [ ! -s "$work/pid" ]; do sleep 0.1; done
pid=$(cat "$work/pid")
ctr-lite ns show "$pid" | tee "$work/show"
grep -qE '^uts +[0-9]+ +own$' "$work/show"
grep -qE '^net +[0-9]+ +own$' "$work/show"
grep -qE '^ipc +[0-9]+ +shared with pid [0-9]+$' "$work/show"
# The inode shown is the one /proc has.
grep -q "^uts  *$(readlink /proc/$pid/ns/uts | tr -dc 0-9) " "$work/show"

echo "== 5. join its net namespace (setns(2)): the same inode, and only lo"
ctr-lite ns --join net=/proc/$pid/ns/net --join uts=/proc/$pid/ns/uts -- \
	/bin/busybox sh -c 'readlink /proc/self/ns/net; cut -d: -f1 /proc/net/dev | tail -n +3' | tee "$work/joined"
test "$(head -n 1 "$work/joined")" = "$(readlink /proc/$pid/ns/net)"
test "$(tail -n +2 "$work/joined" | tr -d ' ')" = lo

kill "$pid"
wait
