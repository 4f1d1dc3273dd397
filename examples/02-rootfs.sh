#!/bin/sh
# 02: the root filesystem - a directory becomes "/" (pivot_root(2)).
#
# A container's files are an ordinary directory ($ROOTFS). In a new mount
# namespace the runtime mounts proc, a small /dev and friends inside it,
# then pivot_root swaps it in as "/" and unmounts the old root: the
# host's mounts vanish from the container's /proc/self/mountinfo.
set -eu
# Scratch files go in a directory of our own, removed when we exit.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "scratch files in $work (removed at exit)"

echo "== 1. outside: the host's mount table"
# mountinfo fields: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - TYPE SOURCE
echo "host mounts: $(wc -l < /proc/self/mountinfo)"
grep -c "$ROOTFS" /proc/self/mountinfo > "$work/n" || true
echo "mounts under \$ROOTFS before: $(cat "$work/n")"
test "$(cat "$work/n")" = 0

echo "== 2. inside: only the rootfs and what we mounted in it"
# --proc: proc on /proc. --dev: a tmpfs /dev with devpts, shm, mqueue, the
# default devices (null, zero, full, random, urandom, tty) and the links
# fd, stdin, stdout, stderr, ptmx. --explain shows every mount as it happens.
ctr-lite rootfs --explain --proc --dev "$ROOTFS" -- cat /proc/self/mountinfo \
	> "$work/inside" 2> "$work/explain"
grep -E '\]: (pivot_root|umount2)' "$work/explain"
cat "$work/inside"
# "/" is $ROOTFS (its ROOT field is the rootfs path on its filesystem)...
grep -qE "^[0-9]+ [0-9]+ [0-9:]+ [^ ]*/$(basename "$ROOTFS") / " "$work/inside"
# ...with proc and the /dev tree on it, and nothing of the host's.
test "$(wc -l < "$work/inside")" = 6
for m in /proc /dev /dev/pts /dev/shm /dev/mqueue; do
	grep -q " $m " "$work/inside"
done

echo "== 3. the minimal /dev: device nodes made with mknod(2)"
ctr-lite rootfs --proc --dev "$ROOTFS" -- sh -c \
	'stat -c "%n %F %t:%T" /dev/null /dev/zero /dev/urandom; echo "/dev/fd -> $(readlink /dev/fd)"' \
	| tee "$work/dev"
grep -q '^/dev/null character special file 1:3$' "$work/dev"
grep -q '^/dev/fd -> /proc/self/fd$' "$work/dev"

echo "== 4. a read-only root, and a masked path"
# --readonly remounts / with MS_RDONLY; --mask binds /dev/null over a file.
if ctr-lite rootfs --readonly --mask /etc/passwd "$ROOTFS" -- \
	sh -c 'wc -c /etc/passwd; touch /newfile' 2>"$work/err"; then exit 1; fi
cat "$work/err"
grep -q 'Read-only file system' "$work/err"

echo "== 5. outside again: the namespace died with the command"
test "$(grep -c "$ROOTFS" /proc/self/mountinfo || true)" = 0
echo "mounts under \$ROOTFS after: 0"
