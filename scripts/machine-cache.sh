# Sourced by .ci/pre.d/*.sh and scripts/setup-tfjs-node.sh: the machine-wide cache of built tools and
# fetched artifacts, shared by every clone on the machine so that a fresh clone does not fetch or build
# again: ${FLOWSENTINEL_CACHE:-${XDG_CACHE_HOME:-~/.cache}/flowsentinel}/<name>. Entries are keyed by
# version inside, and written with temp-dir-and-rename or under a lock, so concurrent clones are safe.
# <repo>/.cache/<name> (git-ignored; what the tests read) becomes a symlink to it; a real directory left
# there by an older checkout is kept and used as before.

# machine_cache NAME: creates the cache entry and the link, prints the directory to use. Run from the
# repository root.
machine_cache() {
  local name="$1" link="$PWD/.cache/$1" dir
  if [ -z "${FLOWSENTINEL_CACHE:-}" ] && [ -z "${HOME:-}" ] && [ -z "${XDG_CACHE_HOME:-}" ]; then
    mkdir -p "$link" && echo "$link" && return # no home: keep it in the clone
  fi
  dir="${FLOWSENTINEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flowsentinel}/$name"
  mkdir -p "$dir" "$PWD/.cache"
  if [ -L "$link" ] || [ ! -e "$link" ]; then ln -sfn "$dir" "$link"; fi
  readlink -f "$link"
}
