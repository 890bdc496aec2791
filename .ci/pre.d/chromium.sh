#!/usr/bin/env bash
# Headless Chromium for the evaluation-report browser test (test/report/evaluation-report-browser.test.ts):
# Debian's `chromium` package at /usr/bin/chromium, driven by playwright-core. apt-get installs it when
# missing. Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

sudo=''
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo='sudo'; fi

if [ -x /usr/bin/chromium ]; then
  echo "chromium.sh: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) found at /usr/bin/chromium"
  exit 0
fi

echo "chromium.sh: /usr/bin/chromium missing, installing the Debian package"
install() {
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core
}
if ! install; then
  echo "chromium.sh: install failed, running apt-get update and retrying"
  $sudo apt-get update
  install
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "chromium.sh: ERROR: apt-get installed chromium but /usr/bin/chromium is not there" >&2
  exit 1
fi
echo "chromium.sh: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
