#!/usr/bin/env bash
# The cost of one chmod and one utimens of a new file held open in a fresh mount (docs/benchmarks.md,
# "The getattr after a chmod or utimens"): `bash bench/setattrs.sh` from the repository, as root, after
# `npm run build`. Prints the mean time of each of 5,000 fchmod and 5,000 futimens.
set -e
R=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd); T=$(mktemp -d /tmp/sbmicro.XXXX); export GIT_CONFIG_GLOBAL=/dev/null
git init -q $T/g && git -C $T/g annex init -q micro >/dev/null 2>&1 # (it prints git's lack of an identity, and succeeds)
mkdir $T/m
node $R/bin/sharebox $T/m -o gitdir=$T/g >/dev/null 2>&1
python3 - $T/m <<'PY'
import os, sys, time
d = sys.argv[1]
fd = os.open(os.path.join(d, "f.txt"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
os.write(fd, b"x")
for i in range(1000): os.fchmod(fd, 0o644); os.utime(fd, ns=(i, i))
t = time.perf_counter()
for i in range(5000): os.fchmod(fd, 0o644)
a = time.perf_counter() - t
t = time.perf_counter()
for i in range(5000): os.utime(fd, ns=(1_600_000_000_000_000_000 + i, 1_700_000_000_000_000_000 + i * 1000000))
b = time.perf_counter() - t
st = os.fstat(fd)
os.close(fd)
print(f"fchmod {a/5000*1e6:.0f} us  futimens {b/5000*1e6:.0f} us  mtime {st.st_mtime_ns}")
PY
node $R/bin/sharebox unmount $T/m >/dev/null 2>&1 || fusermount -u $T/m
rm -rf $T
