#!/usr/bin/env bash
# Prepare this machine for suture: npm dependencies, a running Docker engine, the sandbox image,
# and whatever sandbox/bootstrap.d/*.sh add (opa, Prometheus, ...). Idempotent: a second run takes seconds.
# Usage: bash sandbox/bootstrap.sh [--no-npm]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
export SUTURE_ROOT="$root"
cache="${SUTURE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/suture}"
mkdir -p "$cache"
export SUTURE_CACHE="$cache"
# Tool output (apt, npm, go, dockerd) goes to one log file; the terminal gets one line per step.
export SUTURE_BOOTSTRAP_LOG="$cache/bootstrap.log"

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }
# Runs a noisy tool with its output appended to the bootstrap log; on failure, points there.
quietly() { "$@" >>"$SUTURE_BOOTSTRAP_LOG" 2>&1 || die "$1 failed; see $SUTURE_BOOTSTRAP_LOG"; }
is_root() { [ "$(id -u)" = 0 ]; }
apt_install() {
  # Installs Debian packages only when a command is missing; refuses politely without root.
  local missing=("$@")
  is_root || die "missing ${missing[*]}: install them (sudo apt-get install -y ${missing[*]}) or run as root"
  command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get here: install them by hand"
  log "installing ${missing[*]} (apt-get)"
  if [ ! -f "$SUTURE_CACHE/.apt-updated" ] || [ -n "$(find "$SUTURE_CACHE/.apt-updated" -mmin +720 2>/dev/null)" ]; then
    quietly apt-get update -qq && touch "$SUTURE_CACHE/.apt-updated"
  fi
  # No package may start its service while installing (docker.io would start a dockerd with a default
  # bridge; prometheus would take :9090): policy-rc.d 101 says "not now" to invoke-rc.d.
  local guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && guard=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"$SUTURE_BOOTSTRAP_LOG" 2>&1 || rc=$?
  [ "$rc" = 0 ] || printf '[bootstrap] error: apt-get install %s failed; see %s\n' "${missing[*]}" "$SUTURE_BOOTSTRAP_LOG" >&2
  [ -n "$guard" ] && rm -f /usr/sbin/policy-rc.d
  return "$rc"
}
export -f log die quietly is_root apt_install

# 1. npm dependencies, reinstalled only when package-lock.json changed.
if [ "${1:-}" != "--no-npm" ]; then
  stamp="$root/node_modules/.suture-lock-hash"
  want="$(sha256sum "$root/package-lock.json" | cut -c1-64)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    # Not `npm ci`: the registry reachable here serves only this platform's optional binaries (Biome's),
    # so the lock cannot list the others and ci's strict sync check fails. --no-save keeps the lock as is.
    log "installing npm dependencies (npm install --no-save, versions from package-lock.json)"
    (cd "$root" && quietly npm install --no-save --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
fi

# 2. Docker engine. Reuse a running one; otherwise start dockerd without a default bridge (see DESIGN.md).
if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || apt_install docker.io
  command -v docker >/dev/null || apt_install docker.io
  is_root || die "Docker is not running: start it (sudo dockerd --bridge=none --iptables=false) or add yourself to the docker group"
  if ! pgrep -x dockerd >/dev/null; then
    log "starting dockerd (--bridge=none --iptables=false)"
    nohup dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
      >"$cache/dockerd.log" 2>&1 &
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || die "dockerd did not come up in 30 s; see $cache/dockerd.log"
fi

# 3. The sandbox image, rebuilt when sandbox/image/ changes.
bash "$here/build-image.sh"

# 4. Extra steps contributed by other parts of the project (opa, Prometheus, ...).
for step in "$here"/bootstrap.d/*.sh; do
  [ -e "$step" ] || continue
  bash "$step"
done
log "ready"
