#!/usr/bin/env bash
# Alertmanager, for the end-to-end test of `suture serve`'s POST /alerts. The test starts its own
# alertmanager on loopback ports with a temp config and data dir, so the Debian service is kept off.
set -euo pipefail
if ! command -v prometheus-alertmanager >/dev/null; then
  if [ "$(id -u)" = 0 ] && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt_install prometheus-alertmanager
fi
if [ "$(id -u)" = 0 ] && [ -e /etc/init.d/prometheus-alertmanager ]; then
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus-alertmanager >/dev/null 2>&1 || true
  else
    service prometheus-alertmanager stop >/dev/null 2>&1 || true
    command -v update-rc.d >/dev/null && update-rc.d prometheus-alertmanager disable >/dev/null 2>&1 || true
  fi
fi
