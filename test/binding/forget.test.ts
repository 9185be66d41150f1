/**
 * A forget storm: lookups of thousands of names, then the kernel forgets every inode it can
 * (drop_caches 2 sends FORGET and BATCH_FORGET through the binding's channel) while a file is held
 * open, then several processes look everything up again at once. The mount must still answer every
 * name, every missing one, and the open file's bytes.
 */
import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, expect, it } from "vitest"
import { TestFs, native, py } from "./harness.js"

const t = new TestFs("forget")
const N = 5000
const names = Array.from({ length: N }, (_, i) => `f/${i}`)
const held = randomBytes(200_000)

beforeAll(async () => {
  for (const [i, p] of names.entries()) t.put(p, String(i))
  t.put("held.bin", held)
  native.fuse_native_names_reset(Buffer.from(["f", "held.bin", ...names].map((p) => p + "\0").join("")), "")
  // the held file's reads on the FUSE thread, the others' by the handlers
  t.tie = (p) => ({ thread: p === "/held.bin" })
  await t.mount()
})
afterAll(() => t.close())

/** stats every name and a few missing ones, reads every 50th: how many were as expected */
const LOOKUPS = `
ok = 0
bad = []
for i in range(ARG["n"]):
    p = os.path.join(ARG["mnt"], "f", str(i))
    try:
        st = os.stat(p)
        good = st.st_size == len(str(i)) and (i % 50 or open(p).read() == str(i))
    except OSError as e:
        good = False
    if good:
        ok += 1
    elif len(bad) < 5:
        bad.append(i)
missing = 0
for i in range(ARG["n"], ARG["n"] + 200):
    try:
        os.stat(os.path.join(ARG["mnt"], "f", str(i)))
    except FileNotFoundError:
        missing += 1
print(json.dumps({"ok": ok, "bad": bad, "missing": missing}))
`

it("after thousands of lookups and the kernel forgetting them all, with a file held open, every answer is still right", async () => {
  const storm = await py<{ first: number; forgotten: number; bytes: string }>(
    `
p = os.path.join(ARG["mnt"], "held.bin")
fd = os.open(p, os.O_RDONLY)
first = sum(1 for i in range(ARG["n"]) if os.stat(os.path.join(ARG["mnt"], "f", str(i))).st_size == len(str(i)))
os.system("sync")
with open("/proc/sys/vm/drop_caches", "w") as f:
    f.write("2")
# lookups again right after the forgets, and the held descriptor still reads
forgotten = sum(1 for i in range(0, ARG["n"], 3) if os.path.exists(os.path.join(ARG["mnt"], "f", str(i))))
data = os.pread(fd, 300000, 0)
os.close(fd)
print(json.dumps({"first": first, "forgotten": forgotten, "bytes": data.hex()}))
`,
    { mnt: t.mnt, n: N }
  )
  expect(storm.first).toBe(N)
  expect(storm.forgotten).toBe(Math.ceil(N / 3))
  expect(Buffer.from(storm.bytes, "hex").equals(held)).toBe(true)
  expect(t.count("read", "/held.bin"), "reads of the tied file the handlers saw").toBe(0)

  // three processes at once, each every name again
  const all = await Promise.all([0, 1, 2].map(() => py<{ ok: number; bad: Array<number>; missing: number }>(LOOKUPS, { mnt: t.mnt, n: N })))
  for (const r of all) expect(r).toEqual({ ok: N, bad: [], missing: 200 })
  // the missing ones were the table's answers, never the handlers'
  expect(t.count("getattr", `/f/${N}`)).toBe(0)
})
