#!/usr/bin/env bash
# The long run of the model-based random I/O test (test/integration/randomio.test.ts):
# `npm run randomio`, or `bash scripts/randomio.sh [RUNS [OPS]]`: 200 runs of up to 200
# operations unless told otherwise, about 2 minutes on two cores (132 s here; the test's default
# in `npm test`, 30 runs of up to 80 operations, about 25 s). Sets up first (scripts/setup.sh);
# mounts two hosts in a temp folder and runs python3 for the writes through a map. A failure
# prints fast-check's seed, path and replayPath: `SHAREBOX_RANDOMIO_SEED=SEED bash
# scripts/randomio.sh RUNS OPS` (the same RUNS and OPS) replays it and shrinks again;
# SHAREBOX_RANDOMIO_PATH=PATH SHAREBOX_RANDOMIO_REPLAY=REPLAYPATH beside it go straight to the
# shrunk case. SHAREBOX_RANDOMIO_STRICT=1 checks readers opened before a change too (see the
# test). Exits with vitest's status.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh

export GIT_CONFIG_GLOBAL=/dev/null
export SHAREBOX_RANDOMIO_RUNS=${1:-${SHAREBOX_RANDOMIO_RUNS:-200}}
export SHAREBOX_RANDOMIO_OPS=${2:-${SHAREBOX_RANDOMIO_OPS:-200}}
echo "sharebox randomio: $SHAREBOX_RANDOMIO_RUNS runs of up to $SHAREBOX_RANDOMIO_OPS operations"
exec npx --no vitest run test/integration/randomio.test.ts
