#!/usr/bin/env bash
# Runs the contract subset of the flow tests (invertibility, log-det and serialization of every transform
# and prior: the `contract` files of .ci/flow-suites.txt) on every backend that `npm test` did not already
# use, so the flow engine is checked on wasm, cpu and tensorflow (native, provisioned by
# .ci/post-install.d/tfjs-node.sh). Training tests (toys, trainer, 1-D example) run on the default backend
# only, in `npm test`. Fails when a test/flow file is missing from .ci/flow-suites.txt.
# Under CI=true a missing tensorflow backend is a failure; elsewhere it is skipped with a note.
#   bash .ci/checks.d/flow-backends.sh [backend ...]   (default: wasm tensorflow cpu minus auto's pick)
#   FLOW_BACKENDS="tensorflow" narrows the default list; FLOW_SUITE=all runs every test/flow file instead
#   (the whole suite on cpu took ~26 min on this 2-core machine; the contract subset, 12 files, used 37 s of
#   CPU on cpu).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# ---- the subset: every test/flow file listed exactly once, the contract files selected ----
suites=.ci/flow-suites.txt
problems=()
contract=()
listed=()
while read -r suite path _; do
  case "$suite" in '' | '#'*) continue ;; esac
  if [ "$suite" != contract ] && [ "$suite" != default ]; then problems+=("$suites: '$suite $path': suite must be contract or default")
  elif [ ! -f "$path" ]; then problems+=("$suites: $path does not exist; delete or fix the entry")
  elif [[ " ${listed[*]} " == *" $path "* ]]; then problems+=("$suites: $path is listed twice")
  else
    listed+=("$path")
    if [ "$suite" = contract ]; then contract+=("$path"); fi
  fi
done <"$suites"
while read -r file; do
  [[ " ${listed[*]} " == *" $file "* ]] ||
    problems+=("$file is not in $suites: add it as 'contract' (a transform or prior's invertibility, log-det, serialization) or 'default' (training, pure JS)")
done < <(find test/flow -name '*.test.ts' | sort)
# A file that runs the shared bijector contract (test/helpers/bijector-contract.ts) is a contract file.
while read -r file; do
  [[ " ${contract[*]} " == *" $file "* ]] || problems+=("$file uses bijector-contract.ts: list it as 'contract' in $suites")
done < <(grep -rl --include='*.test.ts' 'helpers/bijector-contract' test/flow | sort)
if [ ${#problems[@]} -gt 0 ]; then
  printf 'flow-backends.sh: ERROR: %s\n' "${problems[@]}" >&2
  exit 1
fi
if [ "${FLOW_SUITE:-contract}" = all ]; then files=(test/flow); label='all flow tests'; else files=("${contract[@]}"); label="${#contract[@]} contract files of test/flow"; fi

# ---- the backends ----
# The backend `auto` picks here, i.e. the one plain `npm test` ran on.
auto="$(npx tsx --input-type=module -e "import { initBackend } from './src/flow/backend.ts'; console.log((await initBackend('auto')).name);" 2>/dev/null | tail -n 1)"
case "$auto" in wasm | cpu | tensorflow) ;; *) echo "flow-backends.sh: ERROR: cannot tell which backend auto picks (got '$auto')" >&2 && exit 1 ;; esac

# FLOW_BACKENDS (space-separated) narrows the default list, e.g. FLOW_BACKENDS=tensorflow to skip cpu.
if [ $# -gt 0 ]; then backends=("$@"); else read -r -a backends <<<"${FLOW_BACKENDS:-wasm tensorflow cpu}"; fi
tf_ok="$(npx tsx --input-type=module -e "import { isBackendAvailable } from './src/flow/backend.ts'; console.log(await isBackendAvailable('tensorflow'));" 2>/dev/null | tail -n 1)"
if [ "$tf_ok" != true ] && [ "${CI:-}" = true ] && [[ " ${backends[*]} " == *" tensorflow "* ]]; then
  echo "flow-backends.sh: ERROR: the tensorflow backend does not load; run npm run setup:tfjs-node (see docs/backends.md)" >&2
  exit 1
fi

for b in "${backends[@]}"; do
  if [ $# -eq 0 ] && [ "$b" = "$auto" ]; then
    echo "flow-backends.sh: $b: covered by npm test (auto picks it)"
    continue
  fi
  if [ "$b" = tensorflow ] && [ "$tf_ok" != true ]; then
    echo "flow-backends.sh: tensorflow: skipped, tfjs-node is not provisioned (npm run setup:tfjs-node)"
    continue
  fi
  echo "== $label on $b"
  started=$SECONDS
  FLOWSENTINEL_BACKEND="$b" npx vitest run "${files[@]}" ||
    { echo "flow-backends.sh: ERROR: the flow tests fail on the $b backend" >&2; exit 1; }
  echo "flow-backends.sh: $b passed in $((SECONDS - started)) s"
done
