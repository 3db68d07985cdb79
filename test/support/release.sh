#!/usr/bin/env bash
# Builds the release files that install.sh downloads: dockernet-linux-x64, dockernet-linux-arm64
# (when bun can cross-compile here) and SHA256SUMS, into OUT_DIR (default dist/).
#
#   bash test/support/release.sh [OUT_DIR]
#
# The build for this machine's CPU must succeed. The other one needs bun's runtime for that target,
# which bun downloads on first use and then caches (~/.bun/install/cache); without a network and
# without that cache it is skipped with a note, and SHA256SUMS lists only what was built.
set -euo pipefail

out=${1:-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ -z $out ]]; then out=$root/dist; fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$root"

bun=node_modules/.bin/bun
if [[ ! -x $bun ]]; then
  echo "release.sh: $bun not found; run npm install first" >&2
  exit 1
fi

case $(uname -m) in
  x86_64 | amd64) native=x64 other=arm64 ;;
  aarch64 | arm64) native=arm64 other=x64 ;;
  *) echo "release.sh: cannot build on $(uname -m); the release targets are x64 and arm64" >&2; exit 1 ;;
esac

# Stale files from an earlier run must not end up in SHA256SUMS.
rm -f "$out"/dockernet-linux-x64 "$out"/dockernet-linux-arm64 "$out"/SHA256SUMS

# build ARCH [WRAPPER...]: compiles dockernet-linux-ARCH, run under WRAPPER (e.g. timeout) if given.
build() {
  local arch=$1
  shift
  # The same build as `npm run build` (the binary the tests run), for the given target.
  if ! "$@" "$bun" test/support/build-binary.ts --target "bun-linux-$arch" --outfile "$out/dockernet-linux-$arch"; then
    rm -f "$out/dockernet-linux-$arch" # a failed build may leave a partial file
    return 1
  fi
}

build "$native"

# bun downloads the runtime of the other target on first use; bound that so a black-holed network
# cannot hang the build.
if ! build "$other" timeout 300; then
  echo "release.sh: note: skipped dockernet-linux-$other: bun could not cross-compile for bun-linux-$other" \
    "(it downloads that runtime once into ~/.bun/install/cache, which needs the network)" >&2
fi

(
  cd "$out"
  files=()
  for arch in x64 arm64; do
    if [[ -f dockernet-linux-$arch ]]; then files+=("dockernet-linux-$arch"); fi
  done
  sha256sum "${files[@]}" >SHA256SUMS.tmp
  mv SHA256SUMS.tmp SHA256SUMS
)

echo "release.sh: wrote to $out:" >&2
(cd "$out" && ls -l dockernet-linux-* SHA256SUMS && cat SHA256SUMS) >&2
