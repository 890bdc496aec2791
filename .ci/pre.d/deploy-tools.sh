#!/usr/bin/env bash
# Validators of the deploy tests (test/deploy/*), installed into .cache/deploy-tools (git-ignored), a link
# to the machine-wide cache (scripts/machine-cache.sh), so a fresh clone reuses the tools built before:
#   bin/docker-compose   Docker Compose v2 built from its Go module with the local Go toolchain: the code
#                        of `docker compose config`, which needs no Docker engine
#   bin/kustomize        kustomize v5 (Go module), renders deploy/k8s as `kubectl apply -k` would
#   k8s-validate/        a venv with kubernetes-validate (PyPI), which bundles the Kubernetes schemas
# Go's module and build caches default to Go's own per-user caches, and pip's to ~/.cache/pip, so even a
# version bump compiles and downloads only what changed. Idempotent: tools of the pinned versions are kept.
# Holds a lock on the cache while it works (clones on the machine share it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

COMPOSE_VERSION=v2.40.3
KUSTOMIZE_VERSION=v5.8.0 # v5.8.1+ need Go 1.27
K8S_VALIDATE_VERSION=1.37.0
MIN_GO_MINOR=24 # Compose v2.40 needs Go 1.24+
# shellcheck source=../../scripts/machine-cache.sh
source scripts/machine-cache.sh
tools="$(machine_cache deploy-tools)"
mkdir -p "$tools/bin"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$tools/.lock"
  flock 9
fi
# Go's default caches live under $HOME; without one, keep them with the tools.
if [ -z "${HOME:-}" ]; then export GOPATH="$tools/go" GOCACHE="$tools/go/build"; fi

sudo=''
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo='sudo'; fi
apt_install() {
  echo "deploy-tools.sh: apt-get install -y $*"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

need_go() {
  if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
  local go_minor
  go_minor="$(go env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p')"
  if [ -z "$go_minor" ] || [ "$go_minor" -lt "$MIN_GO_MINOR" ]; then
    echo "deploy-tools.sh: ERROR: Go 1.${MIN_GO_MINOR}+ is needed to build $1, found: $(go env GOVERSION 2>/dev/null || echo none)" >&2
    exit 1
  fi
  export GOTOOLCHAIN=local GOFLAGS=-mod=readonly
}

# ---- docker-compose ----
compose="$tools/bin/docker-compose"
if [ -x "$compose" ] && "$compose" version 2>/dev/null | grep -q "${COMPOSE_VERSION}\$"; then
  echo "deploy-tools.sh: docker-compose ${COMPOSE_VERSION} found at $compose"
else
  need_go "docker-compose ${COMPOSE_VERSION}"
  echo "deploy-tools.sh: building docker-compose ${COMPOSE_VERSION} from its Go module ($(go env GOVERSION); first build takes minutes)"
  # `go install module@version` refuses modules with exclude directives: build inside the module instead.
  src="$(go mod download -json "github.com/docker/compose/v2@${COMPOSE_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [ -z "$src" ] || [ ! -d "$src/cmd" ]; then
    echo "deploy-tools.sh: ERROR: go mod download of github.com/docker/compose/v2@${COMPOSE_VERSION} gave no source directory" >&2
    exit 1
  fi
  (cd "$src" && go build -trimpath -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=${COMPOSE_VERSION}" \
    -o "$compose.tmp" ./cmd)
  mv "$compose.tmp" "$compose"
  echo "deploy-tools.sh: $("$compose" version)"
fi

# ---- kustomize ----
kustomize="$tools/bin/kustomize"
if [ -x "$kustomize" ] && [ "$("$kustomize" version 2>/dev/null)" = "$KUSTOMIZE_VERSION" ]; then
  echo "deploy-tools.sh: kustomize ${KUSTOMIZE_VERSION} found at $kustomize"
else
  need_go "kustomize ${KUSTOMIZE_VERSION}"
  echo "deploy-tools.sh: building kustomize ${KUSTOMIZE_VERSION} from its Go module"
  GOBIN="$tools/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}"
  echo "deploy-tools.sh: kustomize $("$kustomize" version)"
fi

# ---- kubernetes-validate ----
venv="$tools/k8s-validate"
if [ -x "$venv/bin/kubernetes-validate" ] && [ "$("$venv/bin/kubernetes-validate" --version)" = "$K8S_VALIDATE_VERSION" ]; then
  echo "deploy-tools.sh: kubernetes-validate ${K8S_VALIDATE_VERSION} found in $venv"
else
  if ! command -v python3 >/dev/null 2>&1; then apt_install python3 python3-venv; fi
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    apt_install python3-venv
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==${K8S_VALIDATE_VERSION}"
  echo "deploy-tools.sh: kubernetes-validate $("$venv/bin/kubernetes-validate" --version) installed in $venv"
fi
