#!/usr/bin/env bash
# Idempotent set-up shared by scripts/demo.sh and scripts/test.sh: system packages, node modules,
# build, FUSE device. Prints one line per step; on a problem, one line naming it and exit 1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

say() { printf 'sharebox setup: %s\n' "$*"; }
die() { say "$*" >&2; exit 1; }

# Output of a noisy step goes here and is shown only when the step fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
quietly() {
  if ! "$@" >"$log" 2>&1 </dev/null; then
    cat "$log" >&2
    die "'$*' failed (output above)"
  fi
}

# 1. System packages. fuse-native is built on libfuse 2 (the library itself, libfuse.so.2, which
# its binding loads from the system's library path) and its fusermount helper.
libfuse2_package() {
  # renamed on newer releases (Ubuntu 24.04, Debian 13)
  if apt-cache show libfuse2t64 >/dev/null 2>&1; then echo libfuse2t64; else echo libfuse2; fi
}
missing_packages() {
  missing=()
  command -v git >/dev/null 2>&1 || missing+=(git)
  command -v git-annex >/dev/null 2>&1 || missing+=(git-annex)
  # fuse3's mount.fuse runs sharebox for an fstab line of type fuse.sharebox
  command -v fusermount >/dev/null 2>&1 && { command -v mount.fuse3 >/dev/null 2>&1 || [ -x /sbin/mount.fuse3 ]; } || missing+=(fuse3)
  # flock holds the gitdir lock (src/effects/lock.ts); the tests run setpriv as another user, and
  # the fstab test mount(8), findmnt, unshare and nsenter
  { command -v flock && command -v setpriv && command -v findmnt && command -v unshare && command -v nsenter; } >/dev/null 2>&1 || missing+=(util-linux)
  command -v mount >/dev/null 2>&1 || missing+=(mount)
  /sbin/ldconfig -p 2>/dev/null | grep -q 'libfuse\.so\.2 ' || missing+=("$(libfuse2_package)")
  [ -e /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
  # used by the tests the way a person would use them: rsync -a into a mount, getfattr
  command -v rsync >/dev/null 2>&1 || missing+=(rsync)
  command -v getfattr >/dev/null 2>&1 || missing+=(attr)
  # the ssh tests start a real sshd on 127.0.0.2 and black-hole its port with iptables
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
  command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || missing+=(iptables)
  # to compile fuse-native (packages/fuse-native) with node-gyp
  command -v make >/dev/null 2>&1 || missing+=(make)
  command -v g++ >/dev/null 2>&1 || missing+=(g++)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  [ "${#missing[@]}" -gt 0 ]
}

if ! missing_packages; then
  say "system packages present (git, git-annex, fuse3, libfuse2, util-linux, rsync, attr, openssh, iptables)"
elif [ "$(id -u)" -ne 0 ]; then
  die "run 'sudo apt-get install -y ${missing[*]}' first"
else
  command -v apt-get >/dev/null 2>&1 || die "install ${missing[*]} first (no apt-get on this machine)"
  say "installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  quietly apt-get update -qq
  missing_packages || true # again, with the package lists just fetched (libfuse2's name)
  quietly apt-get install -y -qq "${missing[@]}"
  ! missing_packages || die "${missing[*]} still missing after apt-get install"
fi

# 2. Node.js and the locked node modules. npm ci wipes node_modules, so the stamp inside it
# disappears with any install that did not finish.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  die "Node.js 20 or later with npm is required and was not found"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js 20 or later is required, found $(node --version)"
[ -f package-lock.json ] || die "package-lock.json is missing; npm ci installs only from it"

stamp=node_modules/.sharebox-lock-stamp
want="$(sha256sum package-lock.json | cut -d' ' -f1) node-abi-$(node -p process.versions.modules)"
# fuse-native is sharebox's fork in packages/fuse-native, an npm workspace: npm ci links it and its
# install script compiles it with node-gyp. A change to its sources alone compiles it again. node-gyp
# takes node's headers from the distribution (libnode-dev) where it has them, so it works offline.
fuse=packages/fuse-native
fuse_stamp=$fuse/build/.sharebox-sources-stamp
fuse_sources() {
  find "$fuse" \( -path "$fuse/build" -o -path "$fuse/node_modules" \) -prune -o -type f \
    \( -name '*.[ch]' -o -name '*.js' -o -name binding.gyp -o -name package.json \) -print |
    LC_ALL=C sort | xargs cat | sha256sum | cut -d' ' -f1
}
[ -f /usr/include/node/node_api.h ] && export npm_config_nodedir=/usr
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  say "node modules up to date"
else
  say "installing node modules and building fuse-native (npm ci, node-gyp)"
  quietly npm ci --no-audit --no-fund
  [ -f "$fuse/build/Release/fuse.node" ] || die "npm ci did not build $fuse (needs make, g++ and python3)"
  fuse_sources >"$fuse_stamp"
  printf '%s\n' "$want" >"$stamp"
fi
if [ -f "$fuse/build/Release/fuse.node" ] && [ -f "$fuse_stamp" ] && [ "$(cat "$fuse_stamp")" = "$(fuse_sources)" ]; then
  say "fuse-native up to date"
else
  say "building fuse-native (node-gyp, its sources changed)"
  quietly npm rebuild fuse-native --no-audit --no-fund
  [ -f "$fuse/build/Release/fuse.node" ] || die "could not build $fuse (needs make, g++ and python3)"
  fuse_sources >"$fuse_stamp"
fi

# 3. Build: tsc writes dist/, esbuild bundles dist/bundle/ (what bin/sharebox runs). Only when a
# source, the config, the bundler script or the modules changed since the last good build; a
# deleted source changes its directory's mtime, so it counts too.
built=dist/.sharebox-build-stamp
if [ -f "$built" ] && [ -f dist/bundle/main.js ] && [ -f dist/bundle/daemon.js ] &&
  [ -z "$(find src tsconfig.json package.json package-lock.json scripts/bundle.mjs -newer "$built" -print -quit)" ]; then
  say "build up to date"
else
  say "building (npm run build)"
  quietly npm run build
  touch "$built"
fi

# 4. The FUSE device. Containers need it passed in (docker run --device /dev/fuse --cap-add SYS_ADMIN).
[ -c /dev/fuse ] || die "/dev/fuse is missing: load the fuse module (modprobe fuse) or pass the device into the container"
if [ "$(id -u)" -ne 0 ] && ! { [ -r /dev/fuse ] && [ -w /dev/fuse ]; }; then
  die "/dev/fuse is not readable and writable by $(id -un): make it mode 0666 (the fuse3 package's udev rule does)"
fi
say "/dev/fuse present"

# sharebox passes its own git identity (-c user.name=... -c user.email=...), so nothing here sets
# or needs `git config --global user.name/email`; scripts/test.sh and demo.sh run with an empty
# global git config to keep it that way.
