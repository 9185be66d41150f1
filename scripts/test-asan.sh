#!/usr/bin/env bash
# The FUSE binding (packages/fuse-native) compiled with AddressSanitizer, and tests run against it:
# `bash scripts/test-asan.sh [TEST FILE...]` (npm run test:asan). Without arguments it runs the
# tests that drive the binding's own paths the hardest. Needs scripts/setup.sh to have run.
#
# The normal build (packages/fuse-native/build/Release) is left alone: the ASan build is a copy of
# the package compiled in packages/fuse-native/build/asan, and the package's index.js loads it
# instead while FUSE_NATIVE_PREBUILD names that folder (node-gyp-build's own switch). node is not
# instrumented, so libasan is preloaded into every process the tests start (node, git, git-annex:
# harmless to those); leaks are not reported (node frees little at exit); the first error aborts
# its process and its report, kept in a file, fails the run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

say() { printf 'sharebox test-asan: %s\n' "$*"; }
die() { say "$*" >&2; exit 1; }

[ "$#" -gt 0 ] || set -- test/binding test/integration/io.test.ts test/integration/creates.test.ts test/integration/passthrough.test.ts
for f in "$@"; do [ -e "$f" ] || die "no such test file or folder: $f"; done
[ -d node_modules ] && [ -f dist/bundle/daemon.js ] || die "run 'bash scripts/setup.sh' first (node modules and build missing)"
libasan=$(gcc -print-file-name=libasan.so)
[ -f "$libasan" ] || die "libasan was not found (gcc -print-file-name=libasan.so); install gcc's libasan"

fuse=packages/fuse-native
asan=$fuse/build/asan
say "building fuse-native with -fsanitize=address ($asan)"
rm -rf "$asan"
mkdir -p "$asan"
cp -r "$fuse/package.json" "$fuse/binding.gyp" "$fuse/src" "$asan/"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$gyp" ] || die "node-gyp (bundled with npm) was not found at $gyp"
nodedir=()
[ -f /usr/include/node/node_api.h ] && nodedir=(--nodedir=/usr)
# gyp's Makefiles put $CFLAGS and $LDFLAGS after the package's own flags: -O1 wins over -O3
if ! (cd "$asan" && CFLAGS="-fsanitize=address -fno-omit-frame-pointer -O1 -g" LDFLAGS="-fsanitize=address" \
  node "$gyp" rebuild "${nodedir[@]}") >"$log" 2>&1; then
  cat "$log" >&2
  die "could not build the ASan binding (output above)"
fi
addon=$ROOT/$asan/build/Release/fuse.node
ldd "$addon" | grep -q 'libasan\.so' || die "$addon does not link libasan: it was not built with ASan"

reports=$ROOT/$asan/reports
mkdir -p "$reports"
export FUSE_NATIVE_PREBUILD=$ROOT/$asan
export LD_PRELOAD=$libasan
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$reports/asan"
export GIT_CONFIG_GLOBAL=/dev/null

# The binding the tests load is this one and no other, in a process running ASan's runtime.
loaded=$(node -e '
  require("fuse-native")
  const maps = require("fs").readFileSync("/proc/self/maps", "utf8")
  const addons = new Set(maps.split("\n").filter((l) => l.endsWith(".node")).map((l) => l.split(/ +/).pop()))
  console.log(/libasan\.so/.test(maps), [...addons].join(" "))
')
[ "$loaded" = "true $addon" ] || die "fuse-native did not load $addon alone under ASan (libasan mapped, addons: $loaded)"
say "ASan is active: the binding loaded is $asan/build/Release/fuse.node alone, with libasan"

say "running ${*}"
status=0
npx --no vitest run "$@" || status=$?
if compgen -G "$reports/asan.*" >/dev/null; then
  cat "$reports"/asan.* >&2
  die "AddressSanitizer reported errors (above; kept in $reports)"
fi
[ "$status" -eq 0 ] || die "tests failed under ASan (vitest exit $status)"
say "passed under ASan, no reports"
