#!/usr/bin/env bash
# Build kube-apiserver, kube-scheduler and kubectl (Kubernetes v1.20.2) from
# Debian bookworm's "kubernetes" source package, with the local patches in
# patches/, using Debian's Go 1.19. Idempotent: does nothing when the cached
# binaries were built from the same source version and patches.
#
# Environment:
#   K8S_BIN       where binaries, the unpacked source and the Go build cache live
#                 (default: .k8s-bin at the repository root)
#   K8S_GOCACHE   Go build cache (default $K8S_BIN/gocache; delete it freely)
#   K8S_SKIP_APT  set to 1 to skip apt-get (everything already installed)
#   K8S_FORCE     set to 1 to rebuild even if the cache looks current
#
# Needs root for apt-get (installs golang-1.19-go, etcd-server, dpkg-dev, ...,
# and, when no deb-src entry for bookworm exists, adds one under
# /etc/apt/sources.list.d/). Talks to nothing but Debian's archive: no Go module
# proxy, no other download.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
K8S_BIN=$(realpath -m "${K8S_BIN:-$HERE/../../.k8s-bin}")
SRC_PARENT=$K8S_BIN/src
GOPATH_DIR=$K8S_BIN/gopath
GO=${K8S_GO:-/usr/lib/go-1.19/bin/go}
BINS=(kube-apiserver kube-scheduler kubectl)
PKGS=(golang-1.19-go etcd-server dpkg-dev patch openssl curl ca-certificates)
T0=$(date +%s)

log() { echo "build.sh [$(($(date +%s) - T0))s]: $*" >&2; }
die() { echo "build.sh: $*" >&2; exit 1; }
mkdir -p "$K8S_BIN" "$SRC_PARENT"

PATCH_SUM=$(cat "$HERE"/patches/*.patch | sha256sum | cut -c1-16)
stamp_ok() {
  [ "${K8S_FORCE:-0}" != 1 ] || return 1
  [ -f "$K8S_BIN/.build-stamp" ] || return 1
  grep -qx "patches=$PATCH_SUM" "$K8S_BIN/.build-stamp" || return 1
  local b
  for b in "${BINS[@]}"; do [ -x "$K8S_BIN/$b" ] || return 1; done
}
if stamp_ok; then
  log "up to date: $(tr '\n' ' ' <"$K8S_BIN/.build-stamp")"
  exit 0
fi

# ------------------------------------------------------------------ apt
APT_UPDATED=0
apt_update() { [ "$APT_UPDATED" = 1 ] || { apt-get update -qq; APT_UPDATED=1; }; }
if [ "${K8S_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt-get install ${missing[*]}"
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
[ -x "$GO" ] || die "Go 1.19 not found at $GO (apt-get install golang-1.19-go)"

# ------------------------------------------------------------------ source
SRC=$(find "$SRC_PARENT" -maxdepth 1 -type d -name 'kubernetes-1.20*' | sort | tail -n1)
if [ -z "$SRC" ]; then
  if ! apt-cache showsrc kubernetes 2>/dev/null | grep -q '^Version: 1\.20'; then
    if ! grep -rqsE '^(Types: *deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      log "adding a deb-src entry for bookworm (/etc/apt/sources.list.d/debian-src.sources)"
      cat >/etc/apt/sources.list.d/debian-src.sources <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    fi
    APT_UPDATED=0
    apt_update
  fi
  apt-cache showsrc kubernetes 2>/dev/null | grep -q '^Version: 1\.20' ||
    die "Debian's kubernetes 1.20 source package is not available from the configured apt sources"
  log "apt-get source kubernetes"
  (cd "$SRC_PARENT" && apt-get source kubernetes >"$K8S_BIN/apt-get-source.log" 2>&1) ||
    die "apt-get source kubernetes failed (see $K8S_BIN/apt-get-source.log)"
  SRC=$(find "$SRC_PARENT" -maxdepth 1 -type d -name 'kubernetes-1.20*' | sort | tail -n1)
  [ -n "$SRC" ] || die "apt-get source did not unpack a kubernetes-1.20* directory"
fi
DEB_VERSION=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version 2>/dev/null || basename "$SRC")
log "source: $SRC ($DEB_VERSION)"

# ------------------------------------------------------------------ patches
for p in "$HERE"/patches/*.patch; do
  if (cd "$SRC" && patch -p1 -R --dry-run -s -f <"$p" >/dev/null 2>&1); then
    log "patch already applied: $(basename "$p")"
  else
    log "applying $(basename "$p")"
    (cd "$SRC" && patch -p1 -s -f --no-backup-if-mismatch <"$p") || die "patch $(basename "$p") does not apply"
  fi
done

# ------------------------------------------------------------------ go env
# Kubernetes 1.20 builds in GOPATH mode (as its own Makefile and Debian's rules do):
# with modules, Go 1.19 refuses the vendored tree ("updates to go.mod needed").
export PATH=$(dirname "$GO"):$PATH
export GO111MODULE=off GOPATH=$GOPATH_DIR GOFLAGS= CGO_ENABLED=0 GOPROXY=off
export GOCACHE=${K8S_GOCACHE:-$K8S_BIN/gocache}
mkdir -p "$GOPATH_DIR/src/k8s.io"
ln -sfn "$SRC" "$GOPATH_DIR/src/k8s.io/kubernetes"
cd "$GOPATH_DIR/src/k8s.io/kubernetes"
log "$("$GO" version)"

# ------------------------------------------------------------------ openapi
# pkg/generated/openapi/zz_generated.openapi.go is not in the source tarball
# (upstream generates it during 'make'); kube-apiserver needs it.
OPENAPI=pkg/generated/openapi/zz_generated.openapi.go
if [ ! -s "$OPENAPI" ]; then
  log "generating $OPENAPI"
  "$GO" build -o "$K8S_BIN/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen
  # the same input set as Makefile.generated_files (KUBE_OPENAPI_TAG_FILES)
  dirs=$(find -H . \( -path './_*' -o -path './.*' -o -path ./vendor \) -prune -o -type f -name '*.go' -print |
    xargs grep -l '^// *+k8s:' | xargs grep -l '+k8s:openapi-gen=' |
    sed 's|^\./staging/src|vendor|; s|^\./||' | xargs -n1 dirname | LC_ALL=C sort -u |
    grep -v -e '^vendor/k8s.io/code-generator/' -e '^vendor/k8s.io/sample-apiserver/' |
    sed 's|^|k8s.io/kubernetes/|' | paste -sd,)
  "$K8S_BIN/openapi-gen" --logtostderr -i "$dirs" \
    -p k8s.io/kubernetes/pkg/generated/openapi -O zz_generated.openapi \
    -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt \
    -r "$K8S_BIN/openapi-violations.report" >/dev/null 2>"$K8S_BIN/openapi-gen.log" ||
    die "openapi-gen failed (see $K8S_BIN/openapi-gen.log)"
  [ -s "$OPENAPI" ] || die "openapi-gen wrote nothing"
fi

# ------------------------------------------------------------------ build
LDFLAGS="-s -w"
for p in k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
  LDFLAGS="$LDFLAGS -X $p.gitVersion=v1.20.2 -X $p.gitMajor=1 -X $p.gitMinor=20"
  LDFLAGS="$LDFLAGS -X $p.gitTreeState=dirty -X $p.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
done
log "go build ${BINS[*]} (2 cores: expect several minutes from a cold cache)"
"$GO" build -ldflags "$LDFLAGS" -o "$K8S_BIN/" "${BINS[@]/#/./cmd/}"

for b in "${BINS[@]}"; do
  v=$("$K8S_BIN/$b" --version 2>/dev/null || "$K8S_BIN/$b" version --client --short 2>/dev/null || true)
  log "$b: $v"
done
{
  echo "debian-source=$DEB_VERSION"
  echo "patches=$PATCH_SUM"
  echo "go=$("$GO" env GOVERSION)"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$K8S_BIN/.build-stamp"
log "done: ${BINS[*]} in $K8S_BIN"
