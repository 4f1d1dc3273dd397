#!/bin/sh
# 09: rootless - a container run by a user who is not root (user_namespaces(7)).
#
# A user namespace maps ids: /proc/PID/uid_map has lines "INSIDE OUTSIDE
# COUNT". Its root (uid 0 inside) holds every capability, but only over
# what the namespace owns (its own UTS, mount, pid namespaces and the files
# of mapped owners), never over the host's. An unprivileged user may make
# one mapping only their own uid; that is what `ctr-lite spec --rootless`
# writes, and `ctr-lite run` as that user needs no setuid helper.
set -eu
work=$(mktemp -d)
id=rootless-$$
nobody=65534
# as: run ctr-lite as uid 65534 (setresuid, no groups, no capabilities:
# see 06-process.sh), in the bundle, with a login's environment, no flags.
as() {
	ctr-lite process --user $nobody:$nobody --cwd "$work/bundle" --env PATH=/bin:/usr/bin \
		--env HOME="$work" --env XDG_RUNTIME_DIR="$work/run" -- "$work/ctr-lite" "$@"
}
trap 'as delete --force $id 2>/dev/null; rm -rf "$work"' EXIT
echo "scratch files in $work (removed at exit)"

echo "== 1. a user namespace: uid 0 inside is uid 100000 outside"
# As root we may map any range; inside, the host's root owns nothing we
# are mapped to, so its files show as the overflow uid 65534.
ctr-lite ns --new user,uts --uid-map 0:100000:1 --gid-map 0:100000:1 -- /bin/busybox sh -c \
	'cat /proc/self/uid_map; id -u; hostname inside && hostname; stat -c %u /etc/passwd;
	 touch /etc/ctr-lite-example 2>/dev/null && echo wrote || echo refused' | tee "$work/ns"
set -- $(cat "$work/ns")
test "$1 $2 $3" = "0 100000 1"   # one line: 0 inside is 100000 outside, 1 id
test "$4" = 0                    # we are root inside...
test "$5" = inside               # ...and may rename our own UTS namespace...
test "$6" = 65534                # ...but the host's root is unmapped here...
test "$7" = refused              # ...and its files are not ours to write
test "$(hostname)" != inside

echo "== 2. a user who is not root writes a rootless spec"
# The user needs a bundle and an XDG_RUNTIME_DIR (0700) of their own; the
# state goes in \$XDG_RUNTIME_DIR/ctr-lite (runc's default for them).
chmod 755 "$work"
cp "$(command -v ctr-lite)" "$work/ctr-lite"
mkdir -p "$work/bundle" "$work/run"
cp -a "$ROOTFS" "$work/bundle/rootfs"
chown $nobody:$nobody "$work/bundle" "$work/run"
chmod 700 "$work/run"
as spec --rootless
# The spec: a user namespace mapping 0 to the user's own uid, the host's
# network namespace (the user may not configure a new one), /sys bound
# read-only from the host, no cgroup limits.
cfg=$work/bundle/config.json
grep -A4 uidMappings "$cfg" | tr -d ' \t\n'; echo
grep -q '"hostID": 65534' "$cfg"
sed -i 's/"terminal": true/"terminal": false/; s/"sh"/"sleep", "60"/' "$cfg"

echo "== 3. run it, as that user, with no flags"
as run -d $id >"$work/out" 2>"$work/err" </dev/null
# No cgroup the user may make: skipped with a warning, as runc skips it.
cat "$work/err"
grep -q 'rootless, no permission' "$work/err"
as list
test "$(as list -q)" = $id
test -z "$(ctr-lite list -q | grep -x $id || true)"   # root's --root is another
ls -ld "$work/run/ctr-lite" | cut -c1-10                # drwx-----T: the user's only
pid=$(as state $id | sed -n 's/^  "pid": \([0-9]*\),$/\1/p')
test "$(stat -c %u /proc/$pid)" = $nobody               # the host sees uid 65534

echo "== 4. what root in the container can and cannot do"
# The spec gives it CAP_AUDIT_WRITE, CAP_KILL and CAP_NET_BIND_SERVICE, in
# its user namespace only: it owns its tmpfs mounts, not a device number,
# not the host's /sys or network.
as exec $id sh -c '
	cat /proc/self/uid_map; id -u
	echo data > /dev/shm/f && echo "/dev/shm: written by uid $(stat -c %u /dev/shm/f)"
	hostname box 2>/dev/null && echo hostname ok || echo "hostname: refused (no CAP_SYS_ADMIN in the spec'"'"'s capabilities)"
	mknod /tmp/null c 1 3 2>/dev/null && echo mknod ok || echo "mknod: refused (CAP_MKNOD is the host'"'"'s)"
	touch /sys/x 2>/dev/null && echo sys ok || echo "/sys: read-only"
	ip link add dummy0 type dummy 2>/dev/null && echo net ok || echo "ip link add: refused (the host'"'"'s network namespace)"
	' | tee "$work/inside"
grep -q "0 *$nobody *1" "$work/inside"
grep -qx '/dev/shm: written by uid 0' "$work/inside"
grep -q 'hostname: refused' "$work/inside"
grep -q 'mknod: refused' "$work/inside"
grep -q '/sys: read-only' "$work/inside"
grep -q 'ip link add: refused' "$work/inside"

echo "== 5. stop and delete it; nothing stays"
as kill $id KILL
while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
as delete $id
test -z "$(ls "$work/run/ctr-lite")"
echo "done"
