#!/bin/sh
# crictl.sh: prints the path of crictl (sigs.k8s.io/cri-tools, the CRI
# client kubelet's developers use), built once from the Go module proxy into
# a cache directory that later runs reuse. Needs: go.
# integration/clients_cri_env_test.go runs it; .ci/run runs it first so that
# the build is not charged to the test's time.
set -eu
version=v1.34.0
dir=${CTR_LITE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ctr-lite}/crictl-$version
if [ ! -x "$dir/crictl" ]; then
	mkdir -p "$dir"
	tmp=$(mktemp -d "$dir/.build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT INT TERM
	# Outside any module, so that the project's go.mod plays no part.
	(cd "$tmp" && GOBIN="$tmp" CGO_ENABLED=0 go install "sigs.k8s.io/cri-tools/cmd/crictl@$version") >&2
	mv "$tmp/crictl" "$dir/crictl"
fi
echo "$dir/crictl"
