#!/bin/sh
# vmtest.sh ARCH: run ctr-lite's tests inside a throwaway VM with a pure
# cgroup v2 host (../shared/vm/run.sh), built for ARCH (amd64 or arm64).
# The VM has only busybox: everything is built here, statically, and
# shipped as the payload: the ctr-lite binary, one test binary per package
# (run from a copy of the package's directory so its testdata/ resolves),
# the integration tests, testdata/ and examples/.
# VMTEST_RUN (a -test.run regex), VMTEST_FLAGS (more test flags),
# VMTEST_ENV ("NAME=value ...", exported in the guest before the tests).
set -eu
arch=${1:-amd64}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
vmrun=${VMRUN:-}
for c in "$vmrun" "$top/../shared/vm/run.sh" /work/shared/vm/run.sh; do
	[ -n "$c" ] && [ -x "$c" ] && { vmrun=$c; break; }
done
[ -x "$vmrun" ] || { echo "vmtest: shared/vm/run.sh not found (set VMRUN)" >&2; exit 1; }
payload=$(mktemp -d /tmp/ctr-lite-vm.XXXXXX)
trap 'rm -rf "$payload"' EXIT INT TERM

export CGO_ENABLED=0 GOOS=linux GOARCH="$arch"
go build -trimpath -ldflags "-s -w" -o "$payload/ctr-lite" ./cmd/ctr-lite
cp -r testdata "$payload/testdata"
cp -r examples "$payload/examples"

# Package tests with real-kernel parts; each runs in its own directory.
pkgs=""
for dir in namespaces rootfs caps cgroups seccomp process check; do
	[ -d "$dir" ] || continue
	ls "$dir"/*_test.go >/dev/null 2>&1 || continue
	mkdir -p "$payload/pkg/$dir"
	go test -c -o "$payload/pkg/$dir/$dir.test" "./$dir"
	[ -d "$dir/testdata" ] && cp -r "$dir/testdata" "$payload/pkg/$dir/testdata"
	pkgs="$pkgs $dir"
done
mkdir -p "$payload/integration"
go test -c -o "$payload/integration/integration.test" ./integration

# VMTEST_PRIMITIVES=1: only the primitives' integration tests (for the
# slower emulated arm64): the tests in the files named after each one.
if [ "${VMTEST_PRIMITIVES:-0}" = 1 ] && [ -z "${VMTEST_RUN:-}" ]; then
	VMTEST_RUN="^($(cd integration && grep -ho '^func Test[A-Za-z0-9_]*' \
		ns_test.go rootfs_test.go caps_test.go cgroup_test.go seccomp_test.go \
		process_test.go check_test.go cli_test.go examples_test.go |
		sed 's/^func //' | paste -sd '|'))\$"
fi
# The script the guest runs: every test binary, stop at the first failure.
cat >"$payload/run-tests.sh" <<SCRIPT
set -e
export CTR_LITE_BIN=/payload/ctr-lite CTR_LITE_TESTDATA=/payload/testdata CTR_LITE_EXAMPLES=/payload/examples
${VMTEST_ENV:+export $VMTEST_ENV}
echo "== ctr-lite check ($arch)"
/payload/ctr-lite check
for p in $pkgs; do
	echo "== package \$p"
	(cd /payload/pkg/\$p && ./\$p.test -test.count=1 ${VMTEST_FLAGS:-})
done
echo "== integration"
# A block device for the blkio/io.max limits: the VM has no disk, but
# ships the loop module (loop0-7 appear once it is loaded).
modprobe loop 2>/dev/null || true
# go test's default 10m is too short for the whole suite in an emulated (TCG) VM:
# ~20 min wall on a loaded 2-core host.
cd /payload/integration && ./integration.test -test.count=1 -test.timeout 40m ${VMTEST_FLAGS:-} ${VMTEST_RUN:+-test.run '$VMTEST_RUN'}
SCRIPT

timeout=${VMTEST_TIMEOUT:-3000}
echo "vmtest: $arch, payload $(du -sh "$payload" | cut -f1), timeout ${timeout}s"
"$vmrun" --arch "$arch" --mem 2048 --timeout "$timeout" --payload "$payload" -- sh /payload/run-tests.sh
