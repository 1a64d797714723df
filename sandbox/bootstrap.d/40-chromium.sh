#!/usr/bin/env bash
# Chromium (Debian's package), for the test that renders the HTML incident report headless and checks what
# a reader sees. suture itself never starts a browser. Installed once; later runs only check for it.
set -euo pipefail
for cmd in chromium chromium-browser; do
  command -v "$cmd" >/dev/null && exit 0
done
apt_install chromium
command -v chromium >/dev/null || die "chromium was installed but is not on PATH"
log "chromium ready"
