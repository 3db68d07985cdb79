#!/usr/bin/env bash
# `npm run bench`: builds the binary, then prints each benchmark's figures beside a baseline
# measured in the same run. Benchmarks print; they do not assert (machines here are noisy).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bash test/support/setup.sh
node_modules/.bin/bun test/support/build-binary.ts
node_modules/.bin/bun test/bench/startup.ts
node_modules/.bin/bun test/bench/warp-latency.ts 50 "${WARP_BENCH_ROUNDS:-4}"
node_modules/.bin/bun test/bench/warp-latency.ts 100 "${WARP_BENCH_ROUNDS:-4}"
node_modules/.bin/bun test/bench/warp-runtime.ts "${WARP_RUNTIME_BENCH_RUNS:-15}" "${WARP_BENCH_ROUNDS:-2}"
node_modules/.bin/bun test/bench/join-latency.ts "${JOIN_BENCH_NETWORKS:-30}" "${JOIN_BENCH_ONCE_NETWORKS:-50}" "${JOIN_BENCH_ROUNDS:-2}"
node_modules/.bin/bun test/bench/flow-latency.ts "${FLOW_BENCH_CONTAINERS:-20}" "${FLOW_BENCH_CLIENTS:-10}" "${FLOW_BENCH_MESSAGES:-200}"
node_modules/.bin/bun test/bench/flow-flood.ts "${FLOW_BENCH_CLIENTS:-10}" "${FLOW_BENCH_MESSAGES:-200}" "${FLOW_FLOOD_SECONDS:-10}"
node_modules/.bin/bun test/bench/bridge.ts "${BRIDGE_BENCH_ROUNDS:-20}" "${BRIDGE_BENCH_MB:-300}" "${BRIDGE_BENCH_FORWARDS:-20}"
node_modules/.bin/bun test/bench/bridge-status.ts "${BRIDGE_STATUS_BENCH_RUNS:-40}"
