#!/usr/bin/env bash
# Prerequisites of the Prometheus checks: the `prometheus` and `promtool` binaries from Debian's
# `prometheus` package (test/deploy/prometheus-live.test.ts starts a real Prometheus on loopback;
# .ci/checks.d/promtool.sh runs promtool). Installs the package only when a binary is missing, with
# `apt-get update` on the first failure. The package's maintainer scripts would start a system
# `prometheus` service on :9090 where systemd runs; a temporary /usr/sbin/policy-rc.d (exit 101, the
# Debian convention) stops that, and is removed again unless it was there before. Idempotent.
set -euo pipefail

prometheus_prereqs_main() (
  cd "$(dirname "${BASH_SOURCE[0]}")/../.."
  local sudo=''
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo='sudo'; fi

  if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    echo "prometheus.sh: $(prometheus --version 2>&1 | head -n 1) at $(command -v prometheus)"
    return 0
  fi

  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, .ci/pre.d/prometheus.sh: do not start services while installing\nexit 101\n' |
      $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    own_policy=1
  fi
  local status=0
  apt_install() {
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
  }
  echo "prometheus.sh: prometheus/promtool missing; apt-get install -y prometheus"
  if ! apt_install prometheus; then
    echo "prometheus.sh: install failed, running apt-get update and retrying"
    $sudo apt-get update && apt_install prometheus || status=$?
  fi
  if [ "$own_policy" -eq 1 ]; then $sudo rm -f "$policy"; fi
  if [ "$status" -ne 0 ]; then
    echo "prometheus.sh: ERROR: apt-get install prometheus failed (exit $status)" >&2
    return "$status"
  fi
  for bin in prometheus promtool; do
    if ! command -v "$bin" >/dev/null 2>&1; then
      echo "prometheus.sh: ERROR: '$bin' is still not on PATH after installing the prometheus package" >&2
      return 1
    fi
  done
  echo "prometheus.sh: installed $(prometheus --version 2>&1 | head -n 1)"
)

prometheus_prereqs_main
