#!/usr/bin/env bash
# The container image, built and run for real (issue 17), without a Docker engine or a registry:
#   1. a stand-in for the base image: a Debian bookworm minbase root filesystem (mmdebstrap) plus this
#      machine's own Node 20 and npm, with the `node` user (uid/gid 1000) of the official image, committed
#      as localhost/node:20-bookworm-slim. It exists only for this check (label org.flowsentinel.ci-stand-in)
#      and is reused while the machine's Node version is unchanged;
#   2. deploy/docker/Dockerfile built unchanged with `buildah bud --isolation chroot --pull=never`, the
#      machine's CA bundle passed as the build secret `npmca` (never stored in a layer; checked below);
#   3. in the built image (`buildah run --isolation chroot`, which shares the host network): `--version`,
#      a short `demo`, the image's own HEALTHCHECK command against a running demo (0 while it serves, 1
#      once SIGTERM stopped it), and the configured user is non-root and is the user the process runs as.
# Tools: .ci/pre.d/buildah.sh. Without them the check fails under CI=true and is skipped with a loud line
# elsewhere. Prints how long each phase took.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
t0=$(date +%s)
say() { echo "image.sh: $* (+$(($(date +%s) - t0)) s)"; }
fail() {
  echo "image.sh: FAILED: $*" >&2
  exit 1
}

for tool in buildah mmdebstrap; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    if [ "${CI:-}" = "true" ]; then fail "$tool is missing (install it with: bash .ci/pre.d/buildah.sh)"; fi
    echo "!!! IMAGE: $tool not found; the container image build-and-run check is SKIPPED. Install it with: bash .ci/pre.d/buildah.sh"
    exit 0
  fi
done

BASE=localhost/node:20-bookworm-slim
IMAGE=localhost/flowsentinel:ci-check
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
node_version="$(node --version)"
case "$node_version" in v20.*) ;; *) fail "the stand-in base image needs this machine's node to be 20.x, found $node_version" ;; esac
tmp="$(mktemp -d "${TMPDIR:-/tmp}/flowsentinel-image.XXXXXX")"
containers=()
demo_pid=''
cleanup() {
  if [ -n "$demo_pid" ]; then kill "$demo_pid" 2>/dev/null || true; fi
  for c in "${containers[@]}"; do buildah rm "$c" >/dev/null 2>&1 || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# ---- 1. the stand-in base image ----
have="$(buildah inspect --type image --format '{{index .OCIv1.Config.Labels "org.flowsentinel.node-version"}}' "$BASE" 2>/dev/null || true)"
if [ "$have" = "$node_version" ]; then
  say "stand-in base $BASE (node $node_version) found"
else
  node_bin="$(readlink -f "$(command -v node)")"
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  [ -f "$npm_dir/package.json" ] || fail "cannot find npm's directory (got $npm_dir)"
  mmdebstrap --variant=minbase --quiet \
    --customize-hook="copy-in $node_bin /usr/local/bin" \
    --customize-hook='mkdir -p "$1/usr/local/lib/node_modules"' \
    --customize-hook="copy-in $npm_dir /usr/local/lib/node_modules" \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"' \
    --customize-hook='ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
    --customize-hook='echo "node:x:1000:1000::/home/node:/bin/bash" >>"$1/etc/passwd"; echo "node:x:1000:" >>"$1/etc/group"' \
    --customize-hook='mkdir -p "$1/home/node" && chown 1000:1000 "$1/home/node"' \
    --customize-hook='env -u NODE_EXTRA_CA_CERTS chroot "$1" node --version' \
    bookworm "$tmp/rootfs.tar"
  say "mmdebstrap: bookworm minbase + node $node_version + npm $(npm --version)"
  ctr="$(buildah from scratch)"
  containers+=("$ctr")
  buildah add --quiet "$ctr" "$tmp/rootfs.tar" /
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env "NODE_VERSION=${node_version#v}" --cmd node \
    --label org.flowsentinel.ci-stand-in=true --label "org.flowsentinel.node-version=$node_version" "$ctr"
  buildah commit --quiet --rm "$ctr" "$BASE" >/dev/null
  containers=()
  rm -f "$tmp/rootfs.tar"
  say "stand-in base $BASE committed"
fi

# ---- 2. build the real Dockerfile ----
secret=()
if [ -s "$CA_BUNDLE" ]; then secret=(--secret "id=npmca,src=$CA_BUNDLE"); fi
buildah bud --isolation chroot --format docker --pull=never --layers --quiet "${secret[@]}" \
  -f deploy/docker/Dockerfile -t "$IMAGE" . >"$tmp/build.log" 2>&1 || {
  tail -n 40 "$tmp/build.log" >&2
  fail "buildah bud of deploy/docker/Dockerfile"
}
say "built $IMAGE from deploy/docker/Dockerfile (FROM $BASE)"

config_json="$tmp/config.json"
buildah inspect --type image "$IMAGE" >"$config_json"
# The image's own settings, read from its config (Docker format keeps HEALTHCHECK).
read_config() { node -e "const c=JSON.parse(require('fs').readFileSync('$config_json','utf8')).Docker.config; $1"; }
user="$(read_config 'process.stdout.write(c.User ?? "")')"
health_json="$(read_config 'process.stdout.write(JSON.stringify(c.Healthcheck?.Test ?? []))')"
case "$user" in '' | 0 | 0:* | root | root:*) fail "the image runs as root (USER '$user')" ;; esac
[ "$(node -e "const t=$health_json; process.stdout.write(t[0] ?? '')")" = "CMD" ] ||
  fail "the image has no exec-form HEALTHCHECK (got $health_json)"
mapfile -t health_cmd < <(node -e "for (const a of $health_json.slice(1)) console.log(a)")
ctr="$(buildah from --quiet "$IMAGE")"
containers+=("$ctr")
# Runs a command in the image as its USER, in its WORKDIR (buildah 1.28 run has no --env: use `env`).
in_image() { buildah run --isolation chroot "$ctr" -- "$@"; }
[ ! -e "$(buildah mount "$ctr")/run/secrets/npmca" ] || fail "the CA bundle secret was left in the image"

# ---- 3. run it ----
uid="$(in_image node -e 'process.stdout.write(String(process.getuid()))')"
[ "$uid" != "0" ] || fail "the process runs as root"
say "USER $user: processes run as uid $uid"

version="$(in_image node dist/cli/main.js --version)"
[ "$version" = "$(node -p "require('./package.json').version")" ] || fail "--version printed '$version'"
say "--version: $version"

in_image node dist/cli/main.js demo --events 2000 --metrics-port 0 --report /tmp/report.html \
  >"$tmp/demo.out" 2>"$tmp/demo.err" || fail "demo in the image: $(tail -n 20 "$tmp/demo.err")"
grep -Eq '^  events +2000 ' "$tmp/demo.out" || fail "demo summary missing: $(cat "$tmp/demo.out")"
grep -q '"level":' "$tmp/demo.err" || fail "logs in the image (no terminal) are not JSON: $(head -n 3 "$tmp/demo.err")"
say "demo --events 2000 in the image: summary printed, JSON logs on stderr"

# The HEALTHCHECK command against a running demo: the demo serves /healthz on a free port, and the check
# reads the same FLOWSENTINEL_METRICS__PORT (buildah run shares the host network with chroot isolation).
# The demo's stream is far longer than the check needs, so it serves until the probe has landed; then it
# is stopped with SIGTERM (its graceful shutdown: drain, summary, exit 0). A demo that ended by itself
# raced the probes: with 5,000 events a fresh-clone CI run saw no probe land while it served, and 50,000
# only widened the window. SIGTERM to `buildah run` kills its process without a graceful stop, so the
# demo's shell writes the node pid into the container's /tmp and a second `buildah run` (same rootfs; no
# pid namespace with chroot isolation, same non-root uid) signals it.
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
in_image env "FLOWSENTINEL_METRICS__PORT=$port" FLOWSENTINEL_METRICS__HOST=127.0.0.1 \
  sh -c 'node dist/cli/main.js demo --events 100000000 --report /tmp/report.html & echo $! >/tmp/demo.pid; wait $!' \
  >"$tmp/live.out" 2>"$tmp/live.err" &
demo_pid=$!
healthy=0
for _ in $(seq 1 120); do
  if in_image env "FLOWSENTINEL_METRICS__PORT=$port" "${health_cmd[@]}" 2>/dev/null; then
    healthy=1
    break
  fi
  kill -0 "$demo_pid" 2>/dev/null || break
  sleep 1
done
[ "$healthy" = 1 ] || fail "the HEALTHCHECK command never passed against the running demo: $(tail -n 5 "$tmp/live.err")"
say "HEALTHCHECK (${health_cmd[*]:0:2} …) exits 0 against the running demo on port $port"
kill -0 "$demo_pid" 2>/dev/null || fail "the demo ended before it was stopped: $(tail -n 5 "$tmp/live.err")"
in_image sh -c 'kill -TERM "$(cat /tmp/demo.pid)"' || fail "could not signal the demo in the image"
wait "$demo_pid" || fail "the demo serving the health check did not stop cleanly on SIGTERM: $(tail -n 5 "$tmp/live.err")"
demo_pid=''
grep -Eq '^  events +[1-9][0-9]* ' "$tmp/live.out" || fail "the live demo's summary is missing: $(cat "$tmp/live.out")"
if in_image env "FLOWSENTINEL_METRICS__PORT=$port" "${health_cmd[@]}" 2>/dev/null; then
  fail "the HEALTHCHECK command passed with nothing listening on port $port"
fi
say "SIGTERM stopped the demo (exit 0, summary printed)"
say "HEALTHCHECK exits non-zero once the demo has stopped"
say "OK"
