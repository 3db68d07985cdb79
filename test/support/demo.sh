#!/usr/bin/env bash
# `npm run demo`: installs what is missing, builds dist/dockernet, and shows warp (routing, the kill
# switch, restore, a gateway on a new address) and join (the proxy joining and leaving a project
# network) on a throwaway Docker engine of its own (see test/support/demo.ts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash test/support/setup.sh >&2
node_modules/.bin/bun test/support/build-binary.ts >&2
exec node_modules/.bin/bun test/support/demo.ts
