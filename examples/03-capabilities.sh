#!/bin/sh
# 03: capabilities - root's power, split into bits (capabilities(7)).
#
# Every thread holds five capability sets; /proc/PID/status shows them as
# hex masks, bit N = capability N (CapInh, CapPrm, CapEff, CapBnd, CapAmb).
# A container runs as root but with a few bits only: this is that step.
set -eu
# Scratch files go in a directory of our own, removed when we exit.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "scratch files in $work (removed at exit)"

echo "== 1. this shell's effective set, as the kernel stores it"
eff=$(grep '^CapEff:' /proc/$$/status | cut -f2)
echo "CapEff: $eff"
# capsh --decode: one capability name per set bit.
ctr-lite caps decode "$eff" > "$work/eff"
head -3 "$work/eff"; echo "... ($(wc -l < "$work/eff") capabilities)"
grep -qx CAP_SYS_CHROOT "$work/eff"   # root here may chroot
# All five sets at once:
ctr-lite caps show $$ | cut -c1-60

echo "== 2. a shell with only CAP_CHOWN"
# --all sets bounding, effective and permitted; inheritable and ambient
# stay empty. --explain prints each prctl/capset as it happens.
# (The script gets our scratch directory as $1.)
cat > "$work/inside.sh" <<'INSIDE'
grep ^Cap /proc/self/status
touch "$1/file"
chown 1 "$1/file" && echo "chown: allowed (CAP_CHOWN is bit 0: mask 1)"
if chroot "$ROOTFS" /bin/true 2>"$1/err"; then exit 1; fi
echo "chroot: denied: $(cat "$1/err")"
INSIDE
ctr-lite caps --explain --all CAP_CHOWN -- /bin/busybox sh "$work/inside.sh" "$work" > "$work/out"
cat "$work/out"
grep -q '^CapEff:	0000000000000001$' "$work/out"
grep -q '^CapBnd:	0000000000000001$' "$work/out"
grep -q '^CapInh:	0000000000000000$' "$work/out"
grep -q 'chroot: denied: .*Operation not permitted' "$work/out"
test "$(stat -c %u "$work/file")" = 1

echo "== 3. the bounding set is a ceiling: a dropped capability never comes back"
# Even as root, asking for CAP_SYS_CHROOT again inside fails in capset(2).
if ctr-lite caps --drop CAP_SYS_CHROOT -- \
	ctr-lite caps --all CAP_SYS_CHROOT,CAP_SETPCAP -- /bin/true 2>"$work/err"; then
	exit 1
fi
cat "$work/err"
grep -q 'capset.*operation not permitted' "$work/err"

echo "== 4. what runc and Docker give a container"
ctr-lite caps decode 20000420 | tr '\n' ' '; echo "(runc spec)"
ctr-lite caps decode a80425fb | tr '\n' ' '; echo "(Docker)"
