#!/bin/sh
# mkrootfs.sh DIR: a minimal root filesystem from Debian's busybox-static:
# /bin/busybox, one symlink per applet, /etc/passwd and /etc/group, and the
# empty directories a container mounts over (proc, sys, dev, tmp, ...).
# Needs: busybox-static (apt-get install busybox-static).
set -eu
[ $# -eq 1 ] || { echo "usage: mkrootfs.sh DIR" >&2; exit 2; }
dir=$1
mkdir -p "$(dirname "$dir")"
bb=${BUSYBOX:-/bin/busybox}
[ -x "$bb" ] || { echo "mkrootfs: $bb not found (apt-get install busybox-static)" >&2; exit 1; }
if ldd "$bb" >/dev/null 2>&1; then
	echo "mkrootfs: $bb is dynamically linked; install busybox-static" >&2; exit 1
fi
tmp=$(mktemp -d "${dir%/}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
for d in bin sbin usr/bin usr/sbin etc proc sys dev tmp root home run var/tmp mnt; do
	mkdir -p "$tmp/$d"
done
chmod 0755 "$tmp"
chmod 1777 "$tmp/tmp" "$tmp/var/tmp"
chmod 0700 "$tmp/root"
cp "$bb" "$tmp/bin/busybox"
"$tmp/bin/busybox" --list-full | while IFS= read -r a; do
	[ -n "$a" ] && [ "$a" != bin/busybox ] || continue
	mkdir -p "$tmp/$(dirname "$a")"
	[ -e "$tmp/$a" ] || ln -s /bin/busybox "$tmp/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$tmp/etc/passwd"
printf 'root:x:0:\ndaemon:x:1:\ntty:x:5:\nnogroup:x:65534:\n' >"$tmp/etc/group"
echo ctr-lite >"$tmp/etc/hostname"
: >"$tmp/etc/hosts"
: >"$tmp/etc/resolv.conf"
rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT INT TERM
echo "$dir"
