#!/usr/bin/env bash
# Idempotent machine setup for the tests (Debian, root): installs the Debian packages whose
# commands are missing, then the node dependencies (from bun.lock) when node_modules is missing or stale.
# It never starts, stops or talks to the host's own Docker engine: the tests run their own.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# command -> Debian package. Checked per command: a machine with Docker CE already has a
# dockerd, and docker.io would conflict with it.
declare -A packages=(
  [dockerd]=docker.io
  [docker]=docker.io
  [busybox]=busybox-static
  [sshd]=openssh-server
  [ip]=iproute2
  [nsenter]=util-linux
  [tar]=tar
  [curl]=curl
  [shellcheck]=shellcheck
  [openssl]=openssl
  [ssh-agent]=openssh-client
  [systemd-analyze]=systemd
  [setpriv]=util-linux
  # The flow page is tested in a real browser (playwright-core drives it; no browser download).
  [chromium]=chromium
  # flow's pull tests run a registry inside the test engine's namespace (its service is never started).
  [docker-registry]=docker-registry
)

have() { PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1; }

missing=()
for command in "${!packages[@]}"; do
  package=${packages[$command]}
  if ! have "$command" && [[ " ${missing[*]} " != *" $package "* ]]; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: missing packages ${missing[*]}; run as root to install them" >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Keep the packages' maintainer scripts from starting services (the host's dockerd, sshd).
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update
  apt-get install -y "${missing[@]}"
fi

# Dependencies: bun comes from the npm registry (so a machine with only Node can build), then
# installs exactly what bun.lock pins.
if [[ ! -x node_modules/.bin/bun || node_modules -ot package.json || node_modules -ot bun.lock ]]; then
  bun_version=$(node -p 'require("./package.json").devDependencies.bun.replace(/^[^0-9]*/, "")')
  bootstrap=$(mktemp -d)
  npm install --prefix "$bootstrap" --no-save --no-package-lock --no-audit --no-fund "bun@$bun_version"
  "$bootstrap/node_modules/.bin/bun" install --frozen-lockfile
  rm -rf "$bootstrap"
  touch node_modules
fi

# The deno package puts its executable at node_modules/deno/deno on first use (from the platform
# package it depends on); tests that must signal deno itself run that file directly.
if [[ ! -x node_modules/deno/deno ]]; then
  node_modules/.bin/deno --version >/dev/null
fi
