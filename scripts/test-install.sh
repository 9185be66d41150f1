#!/usr/bin/env bash
# Installs sharebox the way the README tells people to, into a scratch prefix, and uses it: `npm
# pack`, then `npm install -g` of the tarball (offline, with an empty cache: everything it needs
# travels inside it, and fuse-native is compiled from source by its install script), then the
# installed `sharebox --version`, `--help`, `man sharebox`, and a mount of a new gitdir that a file
# is written through, replayed into git, and unmounted. Run after scripts/setup.sh (CI does); takes
# about 25 s, half of it compiling fuse-native. Prints one line per step; on a failure, what failed.
# NPM=/path/to/npm runs another npm (npm 10 and 11 both install it so).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

say() { printf 'test-install: %s\n' "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }
started=$(date +%s)
step_started=$started
took() { local now; now=$(date +%s); say "$* ($((now - step_started)) s)"; step_started=$now; }

[ -f dist/bundle/main.js ] && [ -f dist/bundle/daemon.js ] || die "dist/bundle is missing: run scripts/setup.sh (or npm run build) first"
[ "$(readlink -f node_modules/fuse-native)" = "$ROOT/packages/fuse-native" ] ||
  die "node_modules/fuse-native is not the workspace packages/fuse-native: run scripts/setup.sh first"
version=$(node -p 'require("./package.json").version')
npm=${NPM:-npm}

scratch=$(mktemp -d /tmp/sharebox-install.XXXXXX)
prefix="$scratch/prefix"
mnt="$scratch/mnt"
unmount() { fusermount -u "$1" 2>/dev/null || fusermount3 -u "$1" 2>/dev/null; }
cleanup() {
  if grep -qs " $mnt fuse" /proc/self/mounts; then unmount "$mnt" || umount -l "$mnt" || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
export GIT_CONFIG_GLOBAL=/dev/null

# 1. The tarball. --ignore-scripts: setup.sh has built it, and prepack would build it again (25 s).
tgz=$("$npm" pack --ignore-scripts --silent --pack-destination "$scratch")
tgz="$scratch/$tgz"
[ -f "$tgz" ] || die "npm pack made no tarball"
listing=$(tar tzf "$tgz")
for f in package/bin/sharebox package/man/sharebox.1 package/dist/bundle/main.js package/dist/bundle/daemon.js \
  package/node_modules/fuse-native/package.json package/node_modules/fuse-native/binding.gyp; do
  grep -qx "$f" <<<"$listing" || die "$(basename "$tgz") lacks $f"
done
grep -q '^package/node_modules/fuse-native/.*\.c$' <<<"$listing" || die "$(basename "$tgz") holds no C source of fuse-native"
# what is built here, sources and tests stay out: the binding is compiled where it is installed
if bad=$(grep -E '^package/(src|test|scripts|packages|docs|bench)/|\.map$|\.node$|/build/' <<<"$listing" | grep -v '^package/node_modules/fuse-shared-library'); then
  die "$(basename "$tgz") holds what it should not: $(head -3 <<<"$bad" | tr '\n' ' ')"
fi
took "npm pack: $(basename "$tgz"), $(du -k "$tgz" | cut -f1) KiB, $(wc -l <<<"$listing") files"

# 2. npm install -g into the scratch prefix: offline, with an empty cache, so nothing comes from the
# registry. node-gyp cannot download node's headers offline: it takes the distribution's.
[ -f /usr/include/node/node_api.h ] && export npm_config_nodedir=/usr
if ! out=$("$npm" install -g --prefix "$prefix" --offline --cache "$scratch/cache" --no-audit --no-fund "$tgz" 2>&1); then
  printf '%s\n' "$out" >&2
  die "npm install -g $(basename "$tgz") failed (output above)"
fi
fuse_node="$prefix/lib/node_modules/sharebox/node_modules/fuse-native/build/Release/fuse.node"
[ -f "$fuse_node" ] || die "npm install -g did not compile fuse-native ($fuse_node is missing)"
took "npm $("$npm" --version) install -g --prefix $prefix --offline: fuse-native compiled from source"

# 3. The installed command and its man page.
export PATH="$prefix/bin:$PATH"
[ "$(command -v sharebox)" = "$prefix/bin/sharebox" ] || die "sharebox on the PATH is $(command -v sharebox), not $prefix/bin/sharebox"
[ "$(sharebox --version)" = "$version" ] || die "sharebox --version says '$(sharebox --version)', not $version"
sharebox --help | grep -q '^Usage: sharebox ' || die "sharebox --help shows no usage line"
page="$prefix/share/man/man1/sharebox.1"
[ -f "$page" ] || die "npm installed no man page at $page"
if command -v man >/dev/null 2>&1; then
  [ "$(man -M "$prefix/share/man" -w sharebox)" -ef "$page" ] || die "man -M $prefix/share/man finds no sharebox page"
  MANWIDTH=80 man -M "$prefix/share/man" sharebox 2>/dev/null | grep -q '^SHAREBOX(1)' || die "man sharebox does not render"
  took "sharebox --version, --help and man sharebox (from $prefix/share/man)"
else
  took "sharebox --version and --help; man is not installed, so only the page's presence at $page was checked"
fi

# 4. A mount with the installed binary, as the README's walkthrough does, on a gitdir sharebox init made.
mkdir -p "$mnt"
sharebox init --name installed "$scratch/git" || die "sharebox init failed"
sharebox "$mnt" -o "gitdir=$scratch/git" || die "sharebox $mnt -o gitdir=$scratch/git failed"
grep -qs " $mnt fuse.sharebox " /proc/self/mounts || die "$mnt is not mounted after sharebox returned"
daemon=""
for pid in $(pgrep -f __daemon || true); do
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$mnt" && daemon=$pid
done
[ -n "$daemon" ] || die "no daemon serves $mnt"
grep -qF "$fuse_node" "/proc/$daemon/maps" || die "the daemon did not load the installed binding $fuse_node"
echo "installed" >"$mnt/hello.txt"
[ "$(cat "$mnt/hello.txt")" = installed ] || die "reading back $mnt/hello.txt gave something else"
sharebox replay "$mnt" || die "sharebox replay failed"
git -C "$scratch/git" ls-files | grep -qx hello.txt || die "hello.txt is not in the gitdir's git after sharebox replay"
sharebox status "$mnt" | grep -q "^mounted: *$mnt\$" || die "sharebox status does not say $mnt is mounted"
unmount "$mnt" || die "could not unmount $mnt"
for _ in $(seq 50); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$daemon" 2>/dev/null || die "the daemon (pid $daemon) still runs 5 s after the unmount"
took "sharebox init, mount, a file written, replayed into git, read back, status, unmount"

say "ok: npm pack and npm install -g give a working sharebox and its man page ($(($(date +%s) - started)) s in all)"
