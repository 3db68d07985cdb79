#!/usr/bin/env bash
# Idempotent machine setup for the tests (Debian, root): installs the Debian packages whose
# commands are missing, then the npm dependencies when node_modules is missing or stale.
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

if [[ -f package-lock.json ]]; then lock=package-lock.json; else lock=package.json; fi
if [[ ! -d node_modules || node_modules -ot package.json || node_modules -ot $lock ]]; then
  if [[ -f package-lock.json ]]; then npm ci; else npm install; fi
  touch node_modules
fi
