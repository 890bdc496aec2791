#!/usr/bin/env bash
# Tools of the container-image check (.ci/checks.d/image.sh): buildah (builds deploy/docker/Dockerfile and
# runs commands in the image, chroot isolation, no daemon) and mmdebstrap (the Debian root filesystem of
# the stand-in base image). apt-get installs what is missing, after one `apt-get update`. Idempotent.
set -euo pipefail

sudo=''
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo='sudo'; fi

missing=()
command -v buildah >/dev/null 2>&1 || missing+=(buildah)
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
if [ "${#missing[@]}" -eq 0 ]; then
  echo "buildah.sh: $(buildah --version) and mmdebstrap $(mmdebstrap --version | awk '{print $2}') found"
  exit 0
fi

echo "buildah.sh: installing ${missing[*]} (apt-get update first)"
$sudo apt-get update -qq
# uidmap and fuse-overlayfs are recommendations of buildah; the check runs as root with chroot isolation.
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
for tool in buildah mmdebstrap; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "buildah.sh: ERROR: apt-get ran but $tool is still missing" >&2
    exit 1
  }
done
echo "buildah.sh: installed $(buildah --version) and mmdebstrap $(mmdebstrap --version | awk '{print $2}')"
