#!/bin/bash
# build.sh: build gocker and its container init binary into one directory.
#
#   scripts/build.sh DIR [GO-BUILD-FLAG...]
#
# writes DIR/gocker and DIR/gocker-init. Both get the same build id, a hash
# of the Go sources, go.mod and go.sum: gocker runs DIR/gocker-init as the
# container init only when the ids match (see container/initproc). Extra
# flags go to both "go build" commands; -ldflags is built here and must not
# be among them. Environment: GO (default go), LDFLAGS (more linker flags,
# such as "-s -w").
set -euo pipefail

if [ $# -lt 1 ]; then
	sed -n '2,/^set -e/{/^#/p}' "$0" >&2
	exit 2
fi
out=$1
shift
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-go}
cd "$repo"
# The id covers every non-test Go file, so any change of the spec or the
# messages between gocker and the init changes it.
build_id=$(find . -path ./test -prune -o -name '*.go' ! -name '*_test.go' -print0 |
	sort -z | xargs -0 sha256sum | cat - go.mod go.sum | sha256sum | cut -c1-16)
flags="-X github.com/gocker/gocker/container/initproc.BuildID=$build_id ${LDFLAGS:-}"
mkdir -p "$out"
# urfave/cli's markdown generator is left out: it costs every gocker
# process its package initialization.
CGO_ENABLED=0 "$GO" build -tags urfave_cli_no_docs -ldflags "$flags" "$@" -o "$out/gocker" ./cmd/gocker
CGO_ENABLED=0 "$GO" build -ldflags "$flags" "$@" -o "$out/gocker-init" ./cmd/gocker-init
