"""Writes into files through a shared memory map, for randomio.test.ts (node has no mmap).

One request a line on stdin, `PATH OFFSET HEX` (PATH without spaces): open PATH read-write, map
all of it MAP_SHARED, note the sha256 of what the map shows, write the bytes at OFFSET, msync,
unmap, close. Answers one line: `ok SIZE SHA256-BEFORE`, or `err ERRNO MESSAGE`.
"""
import hashlib
import mmap
import os
import sys

for line in sys.stdin:
    try:
        path, offset, data = line.rstrip("\n").split(" ")
        offset = int(offset)
        data = bytes.fromhex(data)
        fd = os.open(path, os.O_RDWR)
        try:
            size = os.fstat(fd).st_size
            m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            try:
                before = hashlib.sha256(m[:]).hexdigest()
                m[offset : offset + len(data)] = data
                m.flush()
            finally:
                m.close()
        finally:
            os.close(fd)
        print("ok", size, before, flush=True)
    except OSError as e:
        print("err", e.errno, str(e).replace("\n", " "), flush=True)
    except ValueError as e:
        print("err 0", str(e).replace("\n", " "), flush=True)
