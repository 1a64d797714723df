#!/usr/bin/env bash
# Builds suture-sandbox:bookworm: sandbox/image/Dockerfile (the runtimes and the non-root user) on top of a
# minimal Debian bookworm, which comes from one of two places:
#   registry     debian:bookworm-slim, pulled, where a container registry is reachable (GitHub-hosted
#                runners: no root needed);
#   debootstrap  no registry: debootstrap a minimal Debian (needs root), `docker import` it as
#                suture-base:bookworm. The rootfs tarball is cached, so a Dockerfile change rebuilds in seconds.
# SUTURE_IMAGE_SOURCE=auto (default: registry when `docker pull` of the base works, else debootstrap),
# registry or debootstrap forces one. An image already built from the same Dockerfile by either path is kept.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SUTURE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/suture}"
image="${SUTURE_SANDBOX_IMAGE:-suture-sandbox:bookworm}"
base="suture-base:bookworm"
registry_base="${SUTURE_REGISTRY_BASE:-debian:bookworm-slim}"
suite=bookworm
log() { printf '[sandbox-image] %s\n' "$*" >&2; }
die() { printf '[sandbox-image] error: %s\n' "$*" >&2; exit 1; }

# The image's identity: its Dockerfile and the base it was built on.
recipe() { { cat "$here/image/Dockerfile"; printf 'base=%s\n' "$1"; } | sha256sum | cut -c1-16; }
want_debootstrap="$(recipe "debootstrap:$suite:minbase")"
want_registry="$(recipe "$registry_base")"
have="$(docker image inspect -f '{{ index .Config.Labels "dev.suture.image-hash" }}' "$image" 2>/dev/null || true)"
if [ -z "${SUTURE_IMAGE_SOURCE:-}" ] || [ "${SUTURE_IMAGE_SOURCE}" = auto ]; then
  { [ "$have" = "$want_debootstrap" ] || [ "$have" = "$want_registry" ]; } && exit 0
fi

source="${SUTURE_IMAGE_SOURCE:-auto}"
case "$source" in
  registry | debootstrap) ;;
  auto)
    # Pulling the base is the test of a reachable registry (and the pull the build needs anyway).
    if docker image inspect "$registry_base" >/dev/null 2>&1 \
      || timeout "${SUTURE_REGISTRY_TIMEOUT:-120}" docker pull -q "$registry_base" >/dev/null 2>&1; then
      source=registry
    else
      source=debootstrap
    fi
    ;;
  *) die "SUTURE_IMAGE_SOURCE must be auto, registry or debootstrap, not $source" ;;
esac

build() {
  local from="$1" want="$2"
  log "docker build -> $image (from $from)"
  docker build -q --network host --build-arg "BASE=$from" --label "dev.suture.image-hash=$want" \
    --label "dev.suture.image-source=$source" -t "$image" "$here/image" \
    >>"${SUTURE_BOOTSTRAP_LOG:-$cache/bootstrap.log}" 2>&1 \
    || die "docker build failed; see ${SUTURE_BOOTSTRAP_LOG:-$cache/bootstrap.log}"
  log "built $image"
}

mkdir -p "$cache"
if [ "$source" = registry ]; then
  [ "$have" = "$want_registry" ] && exit 0
  log "base image $registry_base from a registry"
  build "$registry_base" "$want_registry"
  exit 0
fi

[ "$have" = "$want_debootstrap" ] && exit 0
tarball="$cache/rootfs-$suite-minbase.tar"
if ! docker image inspect "$base" >/dev/null 2>&1 || [ ! -f "$tarball" ]; then
  if [ ! -f "$tarball" ]; then
    # apt_install comes from bootstrap.sh; run on its own, this script asks for debootstrap instead.
    if ! command -v debootstrap >/dev/null; then
      declare -F apt_install >/dev/null || die "debootstrap is missing: apt-get install -y debootstrap"
      apt_install debootstrap
    fi
    [ "$(id -u)" = 0 ] || die "building the sandbox image without a registry needs root (debootstrap): run sudo bash sandbox/bootstrap.sh"
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
build "$base" "$want_debootstrap"
