#!/usr/bin/env bash
# Provisions the native `tensorflow` tfjs backend (@tensorflow/tfjs-node, built from registry artifacts)
# after `npm ci`: installs the build prerequisites with apt-get when missing, then runs
# scripts/setup-tfjs-node.sh (idempotent; the wheel, libraries and built addon are cached in the
# machine-wide cache that .cache/tfjs-node links to, so a fresh clone reuses them). Cold: ~2 min; cached:
# under 1 min (npm install of the package after npm ci, placing the cached libraries and addon, 2 loads).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

sudo=''
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo='sudo'; fi

missing=()
command -v python3 >/dev/null 2>&1 || missing+=(python3)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
{ command -v readelf >/dev/null 2>&1 && command -v nm >/dev/null 2>&1; } || missing+=(binutils)
command -v flock >/dev/null 2>&1 || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  echo "tfjs-node.sh: apt-get install -y ${missing[*]}"
  $sudo apt-get update -qq || { echo "tfjs-node.sh: ERROR: apt-get update failed" >&2; exit 1; }
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    { echo "tfjs-node.sh: ERROR: apt-get install ${missing[*]} failed" >&2; exit 1; }
fi

started=$SECONDS
bash scripts/setup-tfjs-node.sh
echo "tfjs-node.sh: provisioned in $((SECONDS - started)) s"
