#!/usr/bin/env bash
# The benchmark suite: `npm run bench` (full, several minutes) or `npm run bench -- --quick` (CI,
# under a minute). Installs fio, bindfs and hyperfine (and git-annex, fuse3) with apt-get when they
# are missing, builds dist/ when it is missing, makes a work folder on the same disk as the
# repository, runs bench/bench.mjs in it, and unmounts and removes everything when it ends, even on
# failure or Ctrl-C. Other arguments go to bench.mjs (--reps N, --only seq,random,small,fetch,tree,realwork,
# --json FILE, --markdown FILE).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# 1. Tools, from Debian.
missing=()
for tool in fio bindfs hyperfine git-annex fusermount; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$([ "$tool" = fusermount ] && echo fuse3 || echo "$tool")")
done
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "run 'sudo apt-get install -y ${missing[*]}' first"
  command -v apt-get >/dev/null 2>&1 || die "install ${missing[*]} first (no apt-get here)"
  say "installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  if ! { apt-get install -y -qq "${missing[@]}" || { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; }; } >"$log" 2>&1 </dev/null; then
    cat "$log" >&2
    rm -f "$log"
    die "apt-get install ${missing[*]} failed (output above)"
  fi
  rm -f "$log"
fi
[ -c /dev/fuse ] || die "/dev/fuse is missing"

# 2. Node modules and a build, only when missing (the suite measures the dist/ that is there).
[ -d node_modules/fuse-native ] || { say "installing node modules (npm ci)"; npm ci --no-audit --no-fund >/dev/null; }
[ -f dist/cli/main.js ] || { say "building (npm run build)"; npm run -s build >/dev/null; }

# 3. A work folder on the same disk as the repository.
dev=$(stat -c %d "$ROOT")
base=
for d in "${BENCH_TMPDIR:-}" /var/tmp /tmp; do
  if [ -n "$d" ] && [ -d "$d" ] && [ -w "$d" ] && [ "$(stat -c %d "$d")" = "$dev" ]; then base=$d; break; fi
done
if [ -z "$base" ]; then
  base=${BENCH_TMPDIR:-/var/tmp}
  say "warning: no temporary folder on the repository's disk; using $base (set BENCH_TMPDIR)"
fi
WORK=$(mktemp -d "$base/sharebox-bench.XXXXXX")

# 4. Whatever happens: unmount all under WORK, wait for sharebox daemons to let go, remove WORK.
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -d "$WORK" ]; then
    local mnt pids=()
    for lock in "$WORK"/*/*/.git/sharebox/lock "$WORK"/*/.git/sharebox/lock; do
      [ -f "$lock" ] && pids+=("$(cat "$lock" 2>/dev/null)")
    done
    # the sshd of the ssh measurements
    [ -f "$WORK/sshd/sshd.pid" ] && kill "$(cat "$WORK/sshd/sshd.pid")" 2>/dev/null
    while read -r mnt; do
      fusermount -u "$mnt" 2>/dev/null || fusermount -uz "$mnt" 2>/dev/null || true
    done < <(awk -v w="$WORK/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r)
    for pid in "${pids[@]}"; do
      [ -n "$pid" ] || continue
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

node bench/bench.mjs --tmp "$WORK" "$@"
