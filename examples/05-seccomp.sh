#!/bin/sh
# 05: seccomp - a BPF program the kernel runs on every syscall (seccomp(2)).
#
# A container's seccomp profile (config.json "linux.seccomp") lists
# syscalls and what to do with them. ctr-lite compiles it to classic BPF
# itself; the kernel runs that program on each syscall of the thread and
# its children over struct seccomp_data {nr, arch, ip, args[6]} and obeys
# the SECCOMP_RET_* value it returns. The filter can never be removed.
set -eu
# Scratch files go in a directory of our own, removed when we exit.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "scratch files in $work (removed at exit)"

echo "== 1. a profile: allow everything but mkdir, which fails with EPERM"
cat > "$work/deny-mkdir.json" <<'JSON'
{
	"defaultAction": "SCMP_ACT_ALLOW",
	"syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
	]
}
JSON
ctr-lite seccomp check "$work/deny-mkdir.json"

echo "== 2. the program it compiles to"
# First the ABI check (seccomp_data.arch at offset 4): a syscall made
# through another ABI (int 0x80 or x32 on x86_64) would have other numbers,
# so it kills the process. Then the syscall number (offset 0), one jeq per
# rule. --arch compiles for another machine: arm64 has only mkdirat (34).
ctr-lite seccomp dump "$work/deny-mkdir.json" | tee "$work/dump"
grep -q 'ld  \[4\] .*seccomp_data.arch' "$work/dump"
grep -q 'ret #0x00050001 .*ERRNO(1)' "$work/dump"
ctr-lite seccomp dump --arch arm64 "$work/deny-mkdir.json" > "$work/dump-arm64"
grep -q 'jeq #34 .*; mkdirat' "$work/dump-arm64"

echo "== 3. mkdir under the filter fails, the rest works"
# prctl(PR_SET_NO_NEW_PRIVS), seccomp(SECCOMP_SET_MODE_FILTER), execve:
# the filter is the last thing before execve, so execve must be allowed.
if ctr-lite seccomp --explain --profile "$work/deny-mkdir.json" -- \
	busybox mkdir "$work/newdir" 2>"$work/err"; then
	exit 1
fi
cat "$work/err"
grep -q "can't create directory.*Operation not permitted" "$work/err"
test ! -e "$work/newdir"

echo "== 4. what the kernel shows: Seccomp: 2 is SECCOMP_MODE_FILTER"
ctr-lite seccomp --profile "$work/deny-mkdir.json" -- \
	busybox grep -E '^(NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status | tee "$work/status"
grep -q '^Seccomp:	2$' "$work/status"
grep -q '^Seccomp_filters:	1$' "$work/status"
grep -q '^NoNewPrivs:	1$' "$work/status"
# Compare the shell running this script:
grep '^Seccomp:' /proc/$$/status

echo "== 5. SCMP_ACT_KILL_PROCESS: the process dies of SIGSYS (exit 128+31)"
sed 's/"SCMP_ACT_ERRNO", "errnoRet": 1/"SCMP_ACT_KILL_PROCESS"/' "$work/deny-mkdir.json" > "$work/kill-mkdir.json"
rc=0
ctr-lite seccomp --profile "$work/kill-mkdir.json" -- busybox mkdir "$work/newdir" || rc=$?
echo "exit status: $rc"
test "$rc" = 159
