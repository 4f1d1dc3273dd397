#!/bin/sh
# 06: process hygiene - the last stage before execve(2).
#
# After namespaces, the rootfs, cgroups and capabilities, a runtime still
# has to shape the process itself: limits (prlimit), the OOM bias, who it
# runs as (setgroups/setgid/setuid), its umask and cwd, no_new_privs, and
# which file descriptors it inherits. `ctr-lite process` does only that to
# itself and then execs the command, so each piece can be tried alone.
set -eu
# Scratch files go in a directory of our own, removed when we exit.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "scratch files in $work (removed at exit)"

echo "== 1. a shell as uid 1000, with an rlimit and no_new_privs"
# --explain prints each syscall as it happens (on stderr).
ctr-lite process --explain --user 1000:1000 --groups 10,20 \
	--rlimit RLIMIT_NOFILE=100:200 --no-new-privs --umask 027 --cwd /tmp -- \
	/bin/busybox sh -c 'grep -E "^(Uid|Gid|Groups|CapEff|NoNewPrivs):" /proc/self/status
		grep -E "^(Limit|Max open files)" /proc/self/limits
		echo "umask $(umask), cwd $(pwd)"' > "$work/out"
cat "$work/out"
# The kernel's view: all four uids (real, effective, saved, fs) are 1000,
# the effective capabilities emptied by setuid, no_new_privs set for good.
grep -q '^Uid:	1000	1000	1000	1000$' "$work/out"
grep -q '^Groups:	10 20 *$' "$work/out"
grep -q '^CapEff:	0000000000000000$' "$work/out"
grep -q '^NoNewPrivs:	1$' "$work/out"
grep -Eq '^Max open files +100 +200 ' "$work/out"
grep -q '^umask 0027, cwd /tmp$' "$work/out"

echo "== 2. fds: everything above 2 is closed on exec unless kept"
# This shell opens fd 7 and fd 8; ctr-lite inherits both, marks every fd
# from 3 up close-on-exec (close_range(2) CLOSE_RANGE_CLOEXEC) and clears
# the flag again on --keep-fd 8 only.
exec 7>"$work/seven" 8>"$work/eight"
ctr-lite process --keep-fd 8 -- /bin/busybox sh -c \
	'for f in /proc/$$/fd/*; do echo "fd $(basename $f) -> $(readlink $f)"; done' > "$work/fds"
exec 7>&- 8>&-
# (a low fd pointing at a pipe is the shell's own, for the $(...) above)
cat "$work/fds"
grep -q "^fd 8 -> .*/eight$" "$work/fds"
if grep -q "seven" "$work/fds"; then exit 1; fi

echo "== 3. sysctls: only the ones a namespace of our own holds"
# vm.swappiness is global: a container writing it would tune the host.
if ctr-lite process --sysctl vm.swappiness=10 -- /bin/true 2>"$work/err"; then exit 1; fi
cat "$work/err"
grep -q 'not namespaced' "$work/err"
# kernel.shmmni lives in the IPC namespace: fine in a new one, and the
# host's value does not move.
host=$(cat /proc/sys/kernel/shmmni)
ctr-lite ns --new ipc -- ctr-lite process --sysctl kernel.shmmni=1234 -- \
	/bin/busybox cat /proc/sys/kernel/shmmni > "$work/shm"
echo "inside: $(cat "$work/shm"), host: $host"
test "$(cat "$work/shm")" = 1234
test "$(cat /proc/sys/kernel/shmmni)" = "$host"
