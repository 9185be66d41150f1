#!/usr/bin/env bash
# Set up (scripts/setup.sh), then run every test with vitest; extra arguments go to vitest,
# e.g. `bash scripts/test.sh test/property`. Exits with vitest's status.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh

# sharebox brings its own git identity; an empty global git config keeps the tests honest about
# that, here as on a CI machine where none is configured.
export GIT_CONFIG_GLOBAL=/dev/null

# No import cycles in src/ (type-only imports count too): every later change lands in modules that
# must stay layered (domain <- effects <- fuse/cli).
if [ "$#" -eq 0 ]; then
  npm run -s check:cycles >/dev/null 2>&1 || { npm run -s check:cycles; echo "sharebox test: import cycle in src/ (above)" >&2; exit 1; }
  echo "sharebox test: no import cycles in src/"
  # the tests and benches type-check too (vitest strips types without checking them)
  npx --no -- tsc -p tsconfig.test.json || { echo "sharebox test: type errors in test/ or src/ (above)" >&2; exit 1; }
  echo "sharebox test: src/ and test/ type-check"
fi
exec npx --no vitest run "$@"
