#!/usr/bin/env bash
# Provisions a working @tensorflow/tfjs-node (the native `tensorflow` tfjs backend) from package registries
# only, because its own install script downloads libtensorflow from Google's storage, which answers 403:
#   1. npm: install @tensorflow/tfjs-node WITHOUT saving it to package.json and WITHOUT its install script;
#   2. PyPI: take libtensorflow_cc.so.2 (it exports the TF C API), libtensorflow_framework.so.2 and the C
#      headers from the tensorflow-cpu wheel (or from --libtensorflow-dir);
#   3. place them in node_modules/@tensorflow/tfjs-node/deps/{lib,include}, where its binding.gyp looks;
#   4. build the N-API addon with node-gyp against the local Node headers (no header download);
#   5. verify: setBackend('tensorflow') and a matmul, with a single tfjs-core instance.
# Idempotent; downloads, extracted libraries and the built addon are cached in .cache/tfjs-node (git-ignored),
# a link to the machine-wide cache (scripts/machine-cache.sh), so a fresh clone reuses them.
# Every failure prints one line starting with "setup-tfjs-node: ERROR:". Details: docs/backends.md.
#
#   npm run setup:tfjs-node [-- --libtensorflow-dir DIR] [--tf-version X.Y.Z] [--force]
# Environment: TFJS_NODE_LIBTENSORFLOW_DIR, TFJS_NODE_TF_VERSION, npm_config_nodedir (Node headers).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"

TFJS_NODE_VERSION=4.22.0
DEFAULT_TF_VERSION=2.21.0
# sha256 of tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl on PyPI (pip checks it).
DEFAULT_WHEEL_SHA256=2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c
TF_VERSION="${TFJS_NODE_TF_VERSION:-$DEFAULT_TF_VERSION}"
LIBTF_DIR="${TFJS_NODE_LIBTENSORFLOW_DIR:-}"
FORCE=0
# shellcheck source=machine-cache.sh
source "$ROOT/scripts/machine-cache.sh"
CACHE='' # set in main: $(machine_cache tfjs-node)
PKG="$ROOT/node_modules/@tensorflow/tfjs-node"
LOCK=/tmp/npm.lock

say() { echo "setup-tfjs-node: $*"; }
die() {
  echo "setup-tfjs-node: ERROR: $*" >&2
  exit 1
}

usage() {
  sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
  --libtensorflow-dir) LIBTF_DIR="${2:?--libtensorflow-dir needs a directory}" && shift 2 ;;
  --libtensorflow-dir=*) LIBTF_DIR="${1#*=}" && shift ;;
  --tf-version) TF_VERSION="${2:?--tf-version needs a version, e.g. 2.21.0}" && shift 2 ;;
  --tf-version=*) TF_VERSION="${1#*=}" && shift ;;
  --force) FORCE=1 && shift ;;
  -h | --help) usage && exit 0 ;;
  *) die "unknown argument '$1'; use --libtensorflow-dir DIR, --tf-version X.Y.Z, --force or --help" ;;
  esac
done

[ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] ||
  die "only Linux x86_64 is supported (this is $(uname -s)-$(uname -m)); use the wasm backend instead"

# Runs an npm command that changes node_modules under the shared lock (other sessions may run npm too).
locked_npm() {
  if command -v flock >/dev/null 2>&1; then flock "$LOCK" npm "$@"; else npm "$@"; fi
}

check_tools() {
  local t missing=()
  for t in node npm python3 make g++ unzip readelf nm; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] ||
    die "missing tools: ${missing[*]} (Debian: apt-get install python3 python3-pip make g++ unzip binutils)"
  python3 -m pip --version >/dev/null 2>&1 || die "pip is missing for python3 (Debian: apt-get install python3-pip)"
}

# Directory with include/node/node_api.h for node-gyp, so it never downloads headers.
node_dir() {
  local d
  for d in "${npm_config_nodedir:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")" /usr /usr/local; do
    [ -n "$d" ] && [ -f "$d/include/node/node_api.h" ] && [ -f "$d/include/node/common.gypi" ] && echo "$d" && return
  done
  die "Node headers not found (include/node/node_api.h and common.gypi next to the node binary or in /usr); set npm_config_nodedir=<dir containing include/node>"
}

# The N-API version tfjs-node's loader (node-pre-gyp) looks for: the highest it lists that Node supports.
napi_version() {
  node -e '
    const p = require(process.argv[1]);
    const ok = p.binary.napi_versions.filter((v) => v <= Number(process.versions.napi));
    console.log(Math.max(...ok));' "$PKG/package.json"
}

# Step 1: the npm package, without saving it and without its (failing) install script.
install_package() {
  local have
  have="$(node -p "require('$PKG/package.json').version" 2>/dev/null || true)"
  if [ "$have" = "$TFJS_NODE_VERSION" ] && [ -d "$ROOT/node_modules/@mapbox/node-pre-gyp" ]; then
    say "@tensorflow/tfjs-node@$TFJS_NODE_VERSION already in node_modules"
    return
  fi
  say "npm install --no-save --ignore-scripts @tensorflow/tfjs-node@$TFJS_NODE_VERSION"
  locked_npm install --no-save --ignore-scripts --no-audit --no-fund "@tensorflow/tfjs-node@$TFJS_NODE_VERSION" >/dev/null ||
    die "npm install of @tensorflow/tfjs-node@$TFJS_NODE_VERSION failed (is the npm registry reachable?)"
  [ -f "$PKG/binding.gyp" ] || die "npm install finished but $PKG/binding.gyp is missing"
}

# Step 2a: the tensorflow-cpu wheel from PyPI (cached), unpacked to $CACHE/libtensorflow-<version>.
wheel_libtensorflow() {
  local out="$CACHE/libtensorflow-$TF_VERSION" wheels="$CACHE/wheels" whl
  if [ -f "$out/.complete" ]; then
    echo "$out"
    return
  fi
  mkdir -p "$wheels"
  whl="$(ls "$wheels"/tensorflow_cpu-"$TF_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
  if [ -z "$whl" ]; then
    say "pip download tensorflow-cpu==$TF_VERSION (about 275 MB, cached in $wheels)" >&2
    local req="$CACHE/requirements-$TF_VERSION.txt"
    if [ "$TF_VERSION" = "$DEFAULT_TF_VERSION" ]; then
      echo "tensorflow-cpu==$TF_VERSION --hash=sha256:$DEFAULT_WHEEL_SHA256" >"$req"
    else
      echo "tensorflow-cpu==$TF_VERSION" >"$req"
    fi
    python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
      --platform manylinux_2_27_x86_64 --platform manylinux2014_x86_64 -r "$req" -d "$wheels" >&2 ||
      die "pip download of tensorflow-cpu==$TF_VERSION failed (PyPI unreachable, no cp311 manylinux wheel for it, or hash mismatch)"
    whl="$(ls "$wheels"/tensorflow_cpu-"$TF_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
    [ -n "$whl" ] || die "pip reported success but no tensorflow_cpu-$TF_VERSION wheel is in $wheels"
  fi
  say "unpacking the C API libraries and headers from $(basename "$whl")" >&2
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  unzip -q -o "$whl" 'tensorflow/libtensorflow_cc.so.2' 'tensorflow/libtensorflow_framework.so.2' \
    'tensorflow/include/tensorflow/c/*' 'tensorflow/include/tensorflow/core/platform/*' \
    'tensorflow/include/tsl/*' 'tensorflow/include/xla/tsl/*' -d "$out.tmp" ||
    die "unzip of $whl failed (corrupt download? delete it and rerun)"
  mkdir -p "$out.tmp/lib"
  mv "$out.tmp/tensorflow/libtensorflow_cc.so.2" "$out.tmp/tensorflow/libtensorflow_framework.so.2" "$out.tmp/lib/"
  mv "$out.tmp/tensorflow/include" "$out.tmp/include"
  rmdir "$out.tmp/tensorflow"
  echo "$TF_VERSION" >"$out.tmp/.complete"
  rm -rf "$out" && mv "$out.tmp" "$out"
  echo "$out"
}

# First existing file among the candidates (relative to $1).
first_file() {
  local dir="$1" f
  shift
  for f in "$@"; do [ -e "$dir/$f" ] && readlink -f "$dir/$f" && return; done
  return 0
}

# Step 2b: locate and check the C API library, the framework library and the headers under $1.
# Accepts the libtensorflow tarball layout (lib/, include/) and a pip-installed tensorflow directory.
resolve_libtensorflow() {
  local dir="$1"
  [ -d "$dir" ] || die "libtensorflow directory '$dir' does not exist"
  LIB_CAPI="$(first_file "$dir" lib/libtensorflow_cc.so.2 lib/libtensorflow.so.2 libtensorflow_cc.so.2 libtensorflow.so.2)"
  LIB_FW="$(first_file "$dir" lib/libtensorflow_framework.so.2 libtensorflow_framework.so.2)"
  INC_DIR="$(dirname "$(dirname "$(dirname "$(first_file "$dir" include/tensorflow/c/c_api.h)")")")"
  [ -n "$LIB_CAPI" ] || die "no libtensorflow.so.2 or libtensorflow_cc.so.2 in '$dir' or '$dir/lib'"
  [ -n "$LIB_FW" ] || die "no libtensorflow_framework.so.2 in '$dir' or '$dir/lib'"
  [ -f "$INC_DIR/tensorflow/c/eager/c_api.h" ] ||
    die "no include/tensorflow/c/c_api.h and include/tensorflow/c/eager/c_api.h under '$dir'"
  local sym syms
  syms="$(nm -D --defined-only "$LIB_CAPI" | awk '{ sub(/@.*/, "", $3); print $3 }')" ||
    die "nm -D cannot read $LIB_CAPI (not a shared library?)"
  for sym in TFE_NewContext TFE_Execute TF_LoadSessionFromSavedModel TF_Version; do
    grep -qx "$sym" <<<"$syms" ||
      die "$LIB_CAPI does not export the TF C API symbol $sym (not a libtensorflow C API build)"
  done
}

soname() { readelf -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p'; }

# Hard link (same file system: no copy of ~800 MB), else copy.
link_or_copy() { ln -f "$1" "$2" 2>/dev/null || cp -f "$1" "$2"; }

# Step 3: place the libraries under their SONAMEs (the addon's runtime NEEDED entries) plus the linker
# names binding.gyp uses (-ltensorflow -ltensorflow_framework), and the headers.
place_deps() {
  local lib="$PKG/deps/lib" so_capi so_fw
  so_capi="$(soname "$LIB_CAPI")" && so_fw="$(soname "$LIB_FW")"
  [ -n "$so_capi" ] && [ -n "$so_fw" ] || die "cannot read the SONAME of $LIB_CAPI or $LIB_FW (readelf -d)"
  rm -rf "$PKG/deps" && mkdir -p "$lib" "$PKG/deps/include"
  link_or_copy "$LIB_CAPI" "$lib/$so_capi"
  link_or_copy "$LIB_FW" "$lib/$so_fw"
  ln -sf "$so_capi" "$lib/libtensorflow.so"
  ln -sf "$so_fw" "$lib/libtensorflow_framework.so"
  # The name tfjs-node's install.js checks: if it exists, a later `npm rebuild` keeps deps/ instead of
  # wiping it and retrying the (403) download.
  ln -sf "$so_capi" "$lib/libtensorflow.so.2.9.1"
  cp -r "$INC_DIR/." "$PKG/deps/include/"
}

# Identity of the libtensorflow in use, for the addon cache key.
lib_identity() { stat -c '%s-%Y' "$LIB_CAPI" "$LIB_FW" | tr '\n' '-'; }

# Step 4: build the addon with node-gyp (npm's bundled copy), or reuse a cached build of the same inputs.
build_addon() {
  local napi dest key cached gyp nodedir
  napi="$(napi_version)"
  dest="$PKG/lib/napi-v$napi"
  key="tfjs-node-$TFJS_NODE_VERSION-napi$napi-$(lib_identity | sha256sum | cut -c1-16)"
  cached="$CACHE/addon/$key/tfjs_binding.node"
  mkdir -p "$dest"
  if [ "$FORCE" -eq 0 ] && [ -f "$cached" ]; then
    say "reusing the addon built before ($cached)"
    cp -f "$cached" "$dest/tfjs_binding.node"
    return
  fi
  nodedir="$(node_dir)"
  gyp="$(npm prefix -g)/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
  local -a gyp_cmd=(node "$gyp")
  [ -f "$gyp" ] || gyp_cmd=(npx --yes node-gyp@11)
  say "building the addon with node-gyp (nodedir $nodedir, N-API $napi); takes about a minute"
  (cd "$PKG" && "${gyp_cmd[@]}" rebuild --nodedir="$nodedir" --jobs=2 --module_name=tfjs_binding \
    --module_path="$dest" --napi_build_version="$napi" >"$CACHE/build.log" 2>&1) ||
    die "node-gyp build failed: $(grep -m1 -E 'error|ERR!' "$CACHE/build.log" || echo 'see the log') (full log: $CACHE/build.log)"
  [ -f "$dest/tfjs_binding.node" ] || die "node-gyp finished but $dest/tfjs_binding.node is missing (log: $CACHE/build.log)"
  mkdir -p "$(dirname "$cached")" && cp -f "$dest/tfjs_binding.node" "$cached"
}

# Step 5: load through the project's module resolution, run a matmul, check for one tfjs-core instance.
verify() {
  node -e '
    const path = require("node:path");
    const core = require.resolve("@tensorflow/tfjs-core");
    const nodeCore = require.resolve("@tensorflow/tfjs-core", { paths: [path.dirname(require.resolve("@tensorflow/tfjs-node/package.json"))] });
    if (core !== nodeCore) { console.error(`two tfjs-core copies: ${core} and ${nodeCore}`); process.exit(2); }
    const tf = require("@tensorflow/tfjs-node");
    (async () => {
      if (!(await tf.setBackend("tensorflow")) || tf.getBackend() !== "tensorflow") throw new Error("setBackend(tensorflow) failed");
      const c = await tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).data();
      if (Array.from(c).join(",") !== "19,22,43,50") throw new Error(`wrong matmul result ${Array.from(c)}`);
      console.log(`tfjs-node ${tf.version["tfjs-node"]} on TensorFlow ${tf.backend().binding.TF_Version}`);
    })().catch((e) => { console.error(String(e.message).split("\n")[0]); process.exit(1); });
  ' 2>"$CACHE/verify.log"
}

main() {
  local started=$SECONDS stamp
  check_tools
  CACHE="$(machine_cache tfjs-node)"
  # Clones on this machine share the cache: one provisioning at a time.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE/.lock"
    flock 9
  fi
  [ -f "$ROOT/node_modules/@tensorflow/tfjs-core/package.json" ] ||
    die "node_modules is not installed; run npm ci first"
  stamp="tfjs-node $TFJS_NODE_VERSION; libtensorflow ${LIBTF_DIR:-tensorflow-cpu $TF_VERSION}"
  if [ "$FORCE" -eq 0 ] && [ "$(cat "$PKG/.flowsentinel-provisioned" 2>/dev/null || true)" = "$stamp" ] &&
    verify >/dev/null; then
    say "already provisioned ($stamp); --force rebuilds"
    return
  fi
  install_package
  local dir
  if [ -n "$LIBTF_DIR" ]; then
    dir="$(readlink -f "$LIBTF_DIR")"
  else
    dir="$(wheel_libtensorflow)" || exit 1 # it already printed the one-line error
  fi
  resolve_libtensorflow "$dir"
  say "libtensorflow: $LIB_CAPI"
  place_deps
  build_addon
  local line
  line="$(verify)" || {
    # A cached addon that no longer loads (e.g. other Node headers): rebuild once from source.
    if [ "$FORCE" -eq 0 ]; then
      say "verification failed ($(head -n 1 "$CACHE/verify.log")); rebuilding"
      FORCE=1 && build_addon
    fi
    line="$(verify)" || die "tfjs-node does not load: $(head -n 1 "$CACHE/verify.log")"
  }
  echo "$stamp" >"$PKG/.flowsentinel-provisioned"
  say "OK: $line ($((SECONDS - started)) s)"
}

main
