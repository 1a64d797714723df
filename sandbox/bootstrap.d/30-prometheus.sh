#!/usr/bin/env bash
# Prometheus for the canary tests and the local rollout backend. suture starts its own prometheus binary
# on a free loopback port with a temp data dir, so the Debian service (which would grab :9090 and scrape
# the host) is stopped and kept from starting again.
set -euo pipefail
if ! command -v prometheus >/dev/null; then
  # policy-rc.d 101 keeps the package's postinst from starting the service while it installs.
  if [ "$(id -u)" = 0 ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt_install prometheus
fi
# Keep the packaged services (prometheus, its node exporter) from holding :9090/:9100 on boot or now.
if [ "$(id -u)" = 0 ]; then
  for svc in prometheus prometheus-node-exporter; do
    [ -e "/etc/init.d/$svc" ] || continue
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
      systemctl disable --now "$svc" >/dev/null 2>&1 || true
    else
      service "$svc" stop >/dev/null 2>&1 || true
      command -v update-rc.d >/dev/null && update-rc.d "$svc" disable >/dev/null 2>&1 || true
    fi
  done
fi
# Not `| head -n1`: under pipefail the early close would SIGPIPE prometheus and fail the bootstrap.
version="$(prometheus --version 2>&1 || true)"
log "${version%%$'\n'*}"
