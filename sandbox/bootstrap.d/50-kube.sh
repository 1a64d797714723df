#!/usr/bin/env bash
# A real control plane for the Argo Rollouts end-to-end tests (test/argo-real/): etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, kwok and the Argo Rollouts controller, built from the Go
# module proxy at the versions pinned by sandbox/kube/*/go.mod into $SUTURE_CACHE/kube/<name>-<version>/bin.
# Only builds: the tests start (and stop) the processes themselves (test/helpers/kube.ts).
# The first build takes about 10 min on 2 cores; later runs check a stamp and take a second.
# SUTURE_ARGO_ROLLOUTS_VERSION=1.10 builds the v1.10 line instead of v1.8 (its go.mod asks for a newer Go,
# which the go command fetches as a toolchain module). SUTURE_SKIP_KUBE=1 skips this step.
set -euo pipefail
[ "${SUTURE_SKIP_KUBE:-}" = 1 ] && exit 0
kube="$SUTURE_ROOT/sandbox/kube"
command -v go >/dev/null || die "the Argo Rollouts tests need Go to build their control plane: install Go (>= 1.26)"

# The version a go.mod requires of module $2, whether on a `require` line or inside a block.
pinned() { awk -v m="$2" '$1 == m { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1/go.mod"; }

# build NAME MODULE_DIR VERSION LDFLAGS PACKAGES...: go build into $SUTURE_CACHE/kube/NAME-VERSION/bin unless
# that directory was built from the same go.mod and go.sum (the stamp).
build() {
  local name="$1" dir="$kube/$2" version="$3" ldflags="$4"
  shift 4
  local out="$SUTURE_CACHE/kube/$name-$version"
  local want
  want="$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -c1-64)"
  if [ -f "$out/bin/.stamp" ] && [ "$(cat "$out/bin/.stamp")" = "$want" ]; then
    return 0
  fi
  log "building $name $version from the Go module proxy (first time: minutes; log in $SUTURE_BOOTSTRAP_LOG)"
  rm -rf "$out/bin.tmp" && mkdir -p "$out/bin.tmp"
  (cd "$dir" && quietly go build -trimpath -ldflags "-s -w $ldflags" -o "$out/bin.tmp/" "$@")
  echo "$want" >"$out/bin.tmp/.stamp"
  rm -rf "$out/bin" && mv "$out/bin.tmp" "$out/bin"
}

etcd="$(pinned "$kube/etcd" go.etcd.io/etcd/server/v3)"
build etcd etcd "$etcd" "" go.etcd.io/etcd/server/v3
# The etcd server module's main package builds as "server"; name it like the release binary.
[ -x "$SUTURE_CACHE/kube/etcd-$etcd/bin/server" ] && mv "$SUTURE_CACHE/kube/etcd-$etcd/bin/server" "$SUTURE_CACHE/kube/etcd-$etcd/bin/etcd"

kwok="$(pinned "$kube/kwok" sigs.k8s.io/kwok)"
build kwok kwok "$kwok" "" sigs.k8s.io/kwok/cmd/kwok
# kwok run by hand needs its Stage configs: the "fast" node and pod lifecycles from the same module.
# copy_once SRC_GLOB... DEST: files from the module cache, once per version.
copy_once() {
  local dest="${*: -1}"
  [ -d "$dest" ] && return 0
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp" && cp "${@:1:$#-1}" "$dest.tmp/" && mv "$dest.tmp" "$dest"
}
src="$(cd "$kube/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
copy_once "$src"/kustomize/stage/node/fast/node-initialize.yaml "$src"/kustomize/stage/node/heartbeat/node-heartbeat.yaml \
  "$src"/kustomize/stage/pod/fast/pod-ready.yaml "$src"/kustomize/stage/pod/fast/pod-complete.yaml \
  "$src"/kustomize/stage/pod/fast/pod-delete.yaml "$SUTURE_CACHE/kube/kwok-$kwok/stages"

k8s="$(pinned "$kube/kubernetes" k8s.io/kubernetes)"
minor="${k8s#v1.}" && minor="${minor%%.*}"
# What `kubectl version` and /version report; without it they say v0.0.0 and clients warn about skew.
kv=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kv+=" -X $pkg.gitVersion=$k8s -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
build kubernetes kubernetes "$k8s" "$kv" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl

case "${SUTURE_ARGO_ROLLOUTS_VERSION:-1.8}" in
  1.8 | 1.8.* | v1.8*) line=1.8 ;;
  1.10 | 1.10.* | v1.10*) line=1.10 ;;
  *) die "SUTURE_ARGO_ROLLOUTS_VERSION must be 1.8 or 1.10, not ${SUTURE_ARGO_ROLLOUTS_VERSION}" ;;
esac
argo="$(pinned "$kube/argo-rollouts-v$line" github.com/argoproj/argo-rollouts)"
# v1.10's go.mod names a newer Go than this machine's; let the go command fetch that toolchain.
[ "$line" = 1.10 ] && export GOTOOLCHAIN=auto
build argo-rollouts argo-rollouts-v$line "$argo" \
  "-X github.com/argoproj/argo-rollouts/utils/version.version=${argo#v}" \
  github.com/argoproj/argo-rollouts/cmd/rollouts-controller
# The CRDs the controller expects, from the same module.
src="$(cd "$kube/argo-rollouts-v$line" && go list -m -f '{{.Dir}}' github.com/argoproj/argo-rollouts)"
copy_once "$src"/manifests/crds/*-crd.yaml "$SUTURE_CACHE/kube/argo-rollouts-$argo/crds"
