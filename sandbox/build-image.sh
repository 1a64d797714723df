#!/usr/bin/env bash
# Builds suture-sandbox:bookworm with no container registry: debootstrap a minimal Debian, `docker import`
# it as suture-base:bookworm, then sandbox/image/Dockerfile installs the runtimes (host network, Debian's
# mirror only) and adds the non-root user.
# The rootfs tarball is cached, so a change to the Dockerfile alone rebuilds in seconds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SUTURE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/suture}"
image="${SUTURE_SANDBOX_IMAGE:-suture-sandbox:bookworm}"
base="suture-base:bookworm"
suite=bookworm
log() { printf '[sandbox-image] %s\n' "$*" >&2; }
die() { printf '[sandbox-image] error: %s\n' "$*" >&2; exit 1; }

want="$(cat "$here/image/Dockerfile" "$here/build-image.sh" | sha256sum | cut -c1-16)"
have="$(docker image inspect -f '{{ index .Config.Labels "dev.suture.image-hash" }}' "$image" 2>/dev/null || true)"
[ "$have" = "$want" ] && exit 0

mkdir -p "$cache"
tarball="$cache/rootfs-$suite-minbase.tar"
if ! docker image inspect "$base" >/dev/null 2>&1 || [ ! -f "$tarball" ]; then
  if [ ! -f "$tarball" ]; then
    # apt_install comes from bootstrap.sh; run on its own, this script asks for debootstrap instead.
    if ! command -v debootstrap >/dev/null; then
      declare -F apt_install >/dev/null || die "debootstrap is missing: apt-get install -y debootstrap"
      apt_install debootstrap
    fi
    [ "$(id -u)" = 0 ] || die "building the sandbox image needs root (debootstrap): run sudo bash sandbox/bootstrap.sh"
    # Use the mirror this machine's apt already uses, so no host is hard-wired here.
    mirror="${SUTURE_DEBIAN_MIRROR:-}"
    if [ -z "$mirror" ]; then
      mirror="$(grep -hoE '^URIs: *\S+' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)"
      [ -n "$mirror" ] || mirror="$(grep -hoE '^deb +(\[[^]]*\] +)?\S+' /etc/apt/sources.list 2>/dev/null | awk '{print $NF}' | grep -v security | head -1 || true)"
    fi
    [ -n "$mirror" ] || die "no Debian mirror found in /etc/apt; set SUTURE_DEBIAN_MIRROR"
    rootfs="$(mktemp -d "$cache/rootfs.XXXXXX")"
    trap 'rm -rf "$rootfs"' EXIT
    log "debootstrap $suite (minbase) from $mirror; takes a minute or two, once"
    debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
      || die "debootstrap failed; see $cache/debootstrap.log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$tarball.part" . && mv "$tarball.part" "$tarball"
    rm -rf "$rootfs"; trap - EXIT
  fi
  log "docker import -> $base"
  docker import "$tarball" "$base" >/dev/null
fi
log "docker build -> $image"
docker build -q --network host --label "dev.suture.image-hash=$want" -t "$image" "$here/image" \
  >>"${SUTURE_BOOTSTRAP_LOG:-$cache/bootstrap.log}" 2>&1 || die "docker build failed; see ${SUTURE_BOOTSTRAP_LOG:-$cache/bootstrap.log}"
log "built $image"
