#!/bin/sh
# Installs the dockernet binary from a GitHub release.
#
#   curl -fsSL https://github.com/dockernet/dockernet/raw/main/install.sh | sh
#   curl -fsSL https://github.com/dockernet/dockernet/raw/main/install.sh | sh -s -- --version v0.1.0
#
# Safe to pipe into sh: everything happens inside functions and the only top-level command is
# `main "$@"` on the last line, so a download cut short defines some functions and runs nothing.
# It never edits shell rc files; when the install folder is not on PATH it says how to add it.
#
# Environment:
#   DOCKERNET_INSTALL_DIR   where to put `dockernet` (default /usr/local/bin as root, else ~/.local/bin)
#   DOCKERNET_DOWNLOAD_URL  release base URL holding dockernet-linux-<arch> and SHA256SUMS; replaces
#                           the GitHub URL entirely (https://, or http:// for a loopback test server)
# Test hooks (used by test/e2e/install.test.ts, not meant for users):
#   DOCKERNET_UNAME_S, DOCKERNET_UNAME_M  stand in for `uname -s` and `uname -m`
set -eu

REPO_URL="https://github.com/dockernet/dockernet"

# Set by main; the exit trap removes whatever they name.
WORK_DIR=""
PARTIAL_FILE=""

say() {
    printf 'dockernet-install: %s\n' "$1" >&2
}

warn() {
    say "warning: $1"
}

err() {
    say "error: $1"
    exit 1
}

usage_err() {
    say "error: $1"
    say "see: sh install.sh --help"
    exit 2
}

usage() {
    cat <<'EOF'
Install dockernet, the container networking daemon, from a GitHub release.

Usage: install.sh [--version TAG] [--help]
       curl -fsSL <url>/install.sh | sh -s -- [--version TAG]

Options:
  --version TAG   install the release TAG (e.g. v0.1.0) instead of the latest one
  -h, --help      print this help

Environment:
  DOCKERNET_INSTALL_DIR   install folder (default /usr/local/bin as root, else ~/.local/bin)
  DOCKERNET_DOWNLOAD_URL  release base URL with dockernet-linux-<arch> and SHA256SUMS
                          (overrides the GitHub release URL and --version)

The download is checked against the release's SHA256SUMS before anything is installed.
Shell startup files are never edited.
EOF
}

need_cmd() {
    if ! command -v "$1" >/dev/null 2>&1; then
        err "need '$1' (command not found); install it and run this script again"
    fi
}

cleanup() {
    if [ -n "$PARTIAL_FILE" ]; then
        rm -f "$PARTIAL_FILE"
    fi
    if [ -n "$WORK_DIR" ]; then
        rm -rf "$WORK_DIR"
    fi
}

# Prints x64 or arm64, the suffix of the release file for this machine.
detect_arch() {
    _os="${DOCKERNET_UNAME_S:-$(uname -s)}"
    _cpu="${DOCKERNET_UNAME_M:-$(uname -m)}"
    case "$_os" in
        Linux) ;;
        *) err "unsupported platform: $_os $_cpu (dockernet releases exist for Linux x86_64 and aarch64 only)" ;;
    esac
    case "$_cpu" in
        x86_64 | amd64) echo x64 ;;
        aarch64 | arm64) echo arm64 ;;
        *) err "unsupported platform: $_os $_cpu (dockernet releases exist for Linux x86_64 and aarch64 only)" ;;
    esac
}

# first_available WHAT CMD...: prints the first CMD found on PATH, or fails saying WHAT is needed.
first_available() {
    _what=$1
    shift
    for _candidate in "$@"; do
        if command -v "$_candidate" >/dev/null 2>&1; then
            echo "$_candidate"
            return 0
        fi
    done
    err "need $_what; install one and run this script again"
}

# download DOWNLOADER ALLOW_HTTP URL FILE
download() {
    if [ "$1" = curl ]; then
        if [ "$2" = yes ]; then
            curl --proto '=http,https' -fsSL --retry 3 -o "$4" "$3"
        else
            curl --proto '=https' --tlsv1.2 -fsSL --retry 3 -o "$4" "$3"
        fi
    else
        # wget has no portable way to refuse a redirect to plain http; prefer curl where it exists.
        wget -q -O "$4" "$3"
    fi
}

# Prints the lowercase SHA-256 of FILE.
file_sha256() {
    if [ "$1" = sha256sum ]; then
        _out=$(sha256sum "$2")
    else
        _out=$(shasum -a 256 "$2")
    fi
    echo "${_out%% *}"
}

# Prints the checksum listed for NAME in the SHA256SUMS file SUMS, or nothing.
listed_sha256() {
    while read -r _sum _name || [ -n "${_sum:-}" ]; do
        # `sha256sum -b` writes "*name"; a file written on Windows may end lines with CR.
        _name=${_name#\*}
        _name=${_name%"$(printf '\r')"}
        if [ "$_name" = "$2" ]; then
            echo "$_sum"
            return 0
        fi
    done <"$1"
}

# Found on PATH, or in the sbin folders that a non-root PATH often leaves out.
have_system_cmd() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

main() {
    _tag=""
    while [ $# -gt 0 ]; do
        case "$1" in
            -h | --help)
                usage
                return 0
                ;;
            --version)
                [ $# -ge 2 ] || usage_err "--version needs a release tag, e.g. --version v0.1.0"
                _tag="$2"
                shift 2
                ;;
            --version=*)
                _tag="${1#--version=}"
                shift
                ;;
            *) usage_err "unknown option: $1" ;;
        esac
    done
    if [ -n "$_tag" ]; then
        case "$_tag" in
            *[!A-Za-z0-9._+-]* | -*) usage_err "not a release tag: $_tag" ;;
        esac
    fi

    need_cmd uname
    need_cmd mktemp
    need_cmd install
    need_cmd mkdir
    need_cmd mv
    need_cmd rm
    need_cmd id
    _arch=$(detect_arch)
    _downloader=$(first_available "'curl' or 'wget' to download dockernet" curl wget)
    _hasher=$(first_available "'sha256sum' or 'shasum' to verify the download" sha256sum shasum)

    _allow_http=no
    if [ -n "${DOCKERNET_DOWNLOAD_URL:-}" ]; then
        _base="${DOCKERNET_DOWNLOAD_URL%/}"
        case "$_base" in
            https://*) ;;
            http://*) _allow_http=yes ;;
            *) usage_err "DOCKERNET_DOWNLOAD_URL must start with https:// (or http://): $DOCKERNET_DOWNLOAD_URL" ;;
        esac
        if [ -n "$_tag" ]; then
            warn "--version $_tag is ignored: DOCKERNET_DOWNLOAD_URL names the release files"
        fi
    elif [ -n "$_tag" ]; then
        _base="$REPO_URL/releases/download/$_tag"
    else
        _base="$REPO_URL/releases/latest/download"
    fi

    if [ -n "${DOCKERNET_INSTALL_DIR:-}" ]; then
        _dir="$DOCKERNET_INSTALL_DIR"
    elif [ "$(id -u)" = 0 ]; then
        _dir=/usr/local/bin
    else
        [ -n "${HOME:-}" ] || err "HOME is not set; set DOCKERNET_INSTALL_DIR to choose the install folder"
        _dir="$HOME/.local/bin"
    fi

    _file="dockernet-linux-$_arch"
    trap cleanup EXIT
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM
    WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dockernet-install.XXXXXXXX")

    say "downloading $_base/$_file"
    download "$_downloader" "$_allow_http" "$_base/$_file" "$WORK_DIR/$_file" ||
        err "could not download $_base/$_file${_tag:+ (is $_tag a dockernet release tag?)}"
    download "$_downloader" "$_allow_http" "$_base/SHA256SUMS" "$WORK_DIR/SHA256SUMS" ||
        err "could not download $_base/SHA256SUMS"

    _expected=$(listed_sha256 "$WORK_DIR/SHA256SUMS" "$_file")
    if [ -z "$_expected" ]; then
        err "SHA256SUMS from $_base has no checksum line for $_file; refusing to install"
    fi
    _actual=$(file_sha256 "$_hasher" "$WORK_DIR/$_file")
    if [ "$_actual" != "$_expected" ]; then
        err "checksum mismatch for $_file: SHA256SUMS lists $_expected, the download is $_actual; refusing to install"
    fi
    say "checksum ok ($_actual)"

    if [ ! -d "$_dir" ]; then
        mkdir -p "$_dir" || err "could not create $_dir; set DOCKERNET_INSTALL_DIR to a folder you can write"
    fi
    if [ ! -w "$_dir" ]; then
        err "cannot write to $_dir; run as root (curl ... | sudo sh) or set DOCKERNET_INSTALL_DIR"
    fi
    # Install next to the target, then rename: a running dockernet keeps its old file, and an
    # interrupted copy never leaves a half-written `dockernet` behind.
    PARTIAL_FILE="$_dir/.dockernet.install.$$"
    install -m 0755 "$WORK_DIR/$_file" "$PARTIAL_FILE" || err "could not write $PARTIAL_FILE"
    mv -f "$PARTIAL_FILE" "$_dir/dockernet" || err "could not move the new binary to $_dir/dockernet"
    PARTIAL_FILE=""

    if _version=$("$_dir/dockernet" --version </dev/null 2>/dev/null); then
        say "installed dockernet $_version to $_dir/dockernet"
    else
        say "installed $_dir/dockernet"
        warn "$_dir/dockernet --version failed; this machine may not be able to run the $_file build"
    fi

    for _cmd in nsenter ip; do
        if ! have_system_cmd "$_cmd"; then
            warn "'$_cmd' not found: dockernet warp needs it (Debian/Ubuntu: apt-get install util-linux iproute2)"
        fi
    done

    case ":${PATH:-}:" in
        *":$_dir:"*) _run=dockernet ;;
        *)
            _run="$_dir/dockernet"
            echo "$_dir is not on your PATH. To add it, put this line in your shell's startup file (e.g. ~/.profile):"
            echo "    export PATH=\"$_dir:\$PATH\""
            ;;
    esac
    echo "Next steps:"
    echo "    $_run --version"
    echo "    $_run warp --help"
}

main "$@"
