#!/usr/bin/env bash
# Prerequisites of the local Kafka broker used by the Kafka tests (scripts/kafka/broker.ts):
# Java 17+, Maven and openssl (apt-get installs what is missing), then pre-fetches the broker jars into
# .cache/kafka/<version>/libs (git-ignored) so `npm test` does not download them. .cache/kafka links to the
# machine-wide cache (scripts/machine-cache.sh), so a fresh clone finds the jars there; a cache miss asks
# Maven offline first (~/.m2), then online. Idempotent.
# Run it (`bash .ci/pre.d/kafka.sh`) or source it; either way it works from the repository root.
set -euo pipefail

kafka_prereqs_main() (
  cd "$(dirname "${BASH_SOURCE[0]}")/../.."
  local pom=scripts/kafka/pom.xml
  local sudo=''
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo='sudo'; fi

  local apt_updated=0
  apt_install() {
    echo "kafka.sh: apt-get install -y $*"
    if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; then
      if [ "$apt_updated" -eq 1 ]; then return 1; fi
      echo "kafka.sh: install failed, running apt-get update and retrying"
      $sudo apt-get update
      apt_updated=1
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
    fi
  }

  java_major() {
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\)\.\{0,1\}\([0-9]*\).*/\1 \2/p' | head -n 1 |
      awk '{ print ($1 == 1) ? $2 : $1 }'
  }

  if command -v java >/dev/null 2>&1 && [ "$(java_major)" -ge 17 ] 2>/dev/null; then
    echo "kafka.sh: java $(java_major) found at $(command -v java)"
  else
    echo "kafka.sh: Java 17+ missing (found: $(command -v java >/dev/null 2>&1 && java_major || echo none))"
    apt_install openjdk-17-jdk-headless
    local major
    major="$(java_major)"
    if [ -z "$major" ] || [ "$major" -lt 17 ]; then
      echo "kafka.sh: ERROR: 'java' on PATH is still Java ${major:-?}; select Java 17 (update-alternatives --config java)" >&2
      return 1
    fi
  fi

  if command -v mvn >/dev/null 2>&1; then echo "kafka.sh: maven found at $(command -v mvn)"; else apt_install maven; fi
  if command -v openssl >/dev/null 2>&1; then echo "kafka.sh: openssl found at $(command -v openssl)"; else apt_install openssl; fi

  # Same cache layout and completeness marker as scripts/kafka/jars.ts.
  local version libs tmp
  version="$(sed -n 's:.*<kafka\.version>[[:space:]]*\([^<[:space:]]*\)[[:space:]]*</kafka\.version>.*:\1:p' "$pom" | head -n 1)"
  if [ -z "$version" ]; then echo "kafka.sh: ERROR: no <kafka.version> in $pom" >&2; return 1; fi
  # shellcheck source=../../scripts/machine-cache.sh
  source scripts/machine-cache.sh
  libs="$(machine_cache kafka)/$version/libs"
  if [ -f "$libs/.complete" ]; then
    echo "kafka.sh: Kafka $version jars already cached in $libs"
    return 0
  fi
  tmp="$libs.tmp-$$"
  echo "kafka.sh: fetching Kafka $version jars with Maven (~/.m2, else Maven Central) into $libs"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$libs")"
  local -a copy=(-q -B -f "$pom" org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies
    -DincludeScope=runtime "-DoutputDirectory=$tmp")
  if ! mvn -o "${copy[@]}" >/dev/null 2>&1; then
    echo "kafka.sh: not all in ~/.m2, asking Maven Central"
    rm -rf "$tmp"
    mvn "${copy[@]}"
  fi
  if [ ! -f "$tmp/kafka_2.13-$version.jar" ]; then
    echo "kafka.sh: ERROR: Maven did not produce kafka_2.13-$version.jar" >&2
    rm -rf "$tmp"
    return 1
  fi
  echo "$version" >"$tmp/.complete"
  if [ -f "$libs/.complete" ]; then rm -rf "$tmp"; else rm -rf "$libs" && mv "$tmp" "$libs"; fi
  echo "kafka.sh: cached $(find "$libs" -name '*.jar' | wc -l) jars in $libs"
)

kafka_prereqs_main
