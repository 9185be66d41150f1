#!/usr/bin/env bash
# Two hosts on one machine, following the README walkthrough: a file written on "local" shows on
# "remote" after a sync, with its real size before its content is fetched; a file written on
# "remote" reaches "local" the same way. Every command is echoed before it runs; any unexpected
# output stops the demo with a non-zero exit. Both mounts and the temp folder are always removed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
[ -x "$ROOT/bin/sharebox" ] || { echo "demo: $ROOT/bin/sharebox is missing or not executable" >&2; exit 1; }

# sharebox brings its own git identity; an empty global git config proves it.
export GIT_CONFIG_GLOBAL=/dev/null
export ROOT
sharebox() { "$ROOT/bin/sharebox" "$@"; }
export -f sharebox

STEP_TIMEOUT=120  # seconds for one command; a hung FUSE call fails the demo instead of stalling it
WRITEBACK_TIMEOUT=30

work=$(mktemp -d "${TMPDIR:-/tmp}/sharebox-demo.XXXXXX")
work=$(cd "$work" && pwd -P)  # as /proc/self/mounts spells it

is_mounted() { awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/self/mounts; }

cleanup() {
  local status=$? mnt
  trap - EXIT INT TERM
  for mnt in "$work/remote/mnt" "$work/local/mnt"; do
    is_mounted "$mnt" || continue
    fusermount -u "$mnt" 2>/dev/null || fusermount -uz "$mnt" 2>/dev/null \
      || echo "demo: could not unmount $mnt" >&2
  done
  # --one-file-system: never descend into a mount that refused to go. A daemon may still be
  # writing its last records just after the unmount, hence the second try.
  rm -rf --one-file-system "$work" 2>/dev/null \
    || { sleep 1; rm -rf --one-file-system "$work"; } || echo "demo: could not remove $work" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { printf 'demo: FAILED: %s\n' "$*" >&2; exit 1; }

# run CMD: echo CMD, then run it in $work. Output goes straight through, so a mount daemon that
# keeps a descriptor open cannot stall the demo.
run() {
  printf '+ %s\n' "$1"
  (cd "$work" && timeout --kill-after=5 "$STEP_TIMEOUT" bash -c "$1") || fail "'$1' exited with status $?"
}

# check CMD: like run, and keeps the output in $OUT for `expect`.
check() {
  printf '+ %s\n' "$1"
  OUT=$(cd "$work" && timeout --kill-after=5 "$STEP_TIMEOUT" bash -c "$1") || fail "'$1' exited with status $?"
  [ -z "$OUT" ] || printf '%s\n' "$OUT"
}

expect() {  # expect WHAT WANTED GOT
  [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

expect_mounted() {
  is_mounted "$work/$1" || fail "'$1' is not mounted after the mount command returned"
}

# wait_writeback HOST FILE: a closed file is written back into the host's gitdir after a short
# quiet period, and only then can a peer's sync fetch it.
wait_writeback() {
  local host=$1 file=$2 waited=0
  printf '+ # wait until %s has written %s back into %s/git\n' "$host" "$file" "$host"
  until git -C "$work/$host/git" ls-tree -r --name-only HEAD 2>/dev/null | grep -Eq "(^|/)$file\$"; do
    [ "$waited" -lt "$WRITEBACK_TIMEOUT" ] \
      || fail "$file was not committed in $host/git within ${WRITEBACK_TIMEOUT}s of being closed"
    sleep 1
    waited=$((waited + 1))
  done
}

echo "demo: working in $work"

run 'mkdir -p local/git local/mnt remote/git remote/mnt'
run 'sharebox local/mnt -o gitdir=local/git'
expect_mounted local/mnt
run 'sharebox remote/mnt -o gitdir=remote/git'
expect_mounted remote/mnt

# Remote URLs are relative to the gitdir, as if typed after `cd test/remote/git`.
run 'git -C remote/git remote add local ../../local/git'
run 'git -C local/git remote add remote ../../remote/git'

run 'echo test > local/mnt/foo'
check 'ls remote/mnt'
expect "ls remote/mnt before sync" "" "$OUT"

wait_writeback local foo
run 'sharebox --command sync remote/mnt'
check 'ls -l remote/mnt'
check "stat -c '%n: %s bytes, %b blocks' remote/mnt/foo"
expect "size and blocks of foo on remote before it is read" "remote/mnt/foo: 5 bytes, 0 blocks" "$OUT"
check 'cat remote/mnt/foo'
expect "cat remote/mnt/foo" "test" "$OUT"

run "echo 'written on remote' > remote/mnt/bar"
wait_writeback remote bar
run 'sharebox sync local/mnt'
check 'ls -l local/mnt'
check 'cat local/mnt/bar'
expect "cat local/mnt/bar" "written on remote" "$OUT"

run 'fusermount -u remote/mnt'
run 'fusermount -u local/mnt'

echo "demo: every check gave the expected output"
