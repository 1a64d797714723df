#!/usr/bin/env bash
# opa, pinned by policies/tools/go.mod, built from the Go module proxy into $SUTURE_CACHE/bin/opa.
# src/policy finds it there (after $SUTURE_OPA and PATH). Fast when the pinned version is already built.
set -euo pipefail
tools="$SUTURE_ROOT/policies/tools"
want="$(awk '$1 == "github.com/open-policy-agent/opa" { sub(/^v/, "", $2); print $2 }' "$tools/go.mod")"
[ -n "$want" ] || die "policies/tools/go.mod does not pin github.com/open-policy-agent/opa"
bin="$SUTURE_CACHE/bin/opa"
# Read the whole `opa version` output before matching: with pipefail, `grep -q` closing the pipe early
# would SIGPIPE opa and fail the check at random.
reports() { local out; out="$("$1" version 2>/dev/null || true)"; grep -qx "Version: $want" <<<"$out"; }
if [ -x "$bin" ] && reports "$bin"; then
  exit 0
fi
command -v go >/dev/null || die "opa $want needs Go (>= the version in policies/tools/go.mod) to build: install Go, or put opa $want on PATH and set SUTURE_OPA"
log "building opa $want from the Go module proxy (first time: a few minutes)"
mkdir -p "$SUTURE_CACHE/bin"
(cd "$tools" && quietly go build -trimpath -o "$bin.tmp" github.com/open-policy-agent/opa)
mv "$bin.tmp" "$bin"
reports "$bin" || die "built opa does not report version $want"
log "opa $want ready at $bin"
