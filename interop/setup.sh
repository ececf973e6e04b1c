#!/usr/bin/env bash
# Installs what the interop matrix needs on a fresh machine, then builds every
# reference peer into the cache (~/.cache/lp2p-interop, or $LP2P_INTEROP_CACHE).
# Toolchains (Go, Rust/cargo, Python 3 with venv, Node with npm) must already be on
# PATH: a missing one is reported by name. Debian packages are installed only when
# missing and only as root. Safe to run again: a warm cache makes it a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in go cargo python3 node npm; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "interop setup: missing toolchain(s): ${missing[*]}" >&2
  echo "  install Go 1.25+, Rust 1.88+ (cargo), Python 3.10+ (with venv), Node 20+ (with npm)" >&2
  exit 2
fi

# py-libp2p's fastecdsa dependency compiles against GMP when no wheel fits; the
# Python venv module is a separate Debian package on some images.
apt_needed=()
dpkg -s libgmp-dev >/dev/null 2>&1 || apt_needed+=(libgmp-dev)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || apt_needed+=(python3-venv)
if [ "${#apt_needed[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${apt_needed[@]}"
  else
    echo "interop setup: please install Debian package(s): ${apt_needed[*]}" >&2
    exit 2
  fi
fi

[ -d node_modules/tsx ] || npm ci --no-audit --no-fund
exec node --import tsx interop/driver/main.ts --setup-only "$@"
