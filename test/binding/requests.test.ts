/**
 * The binding's count of requests (src/requests.c), which the daemon's write-back reads to tell a
 * mount in use from an idle one: every request counts, those the FUSE threads answer themselves
 * too; those for the quiet folder (fuse_native_requests_quiet: the daemon's `.sharebox/`, whose
 * status commands poll while they wait for the write-back) and below do not, nor those for the
 * root itself.
 */
import { randomBytes } from "node:crypto"
import { afterAll, beforeAll, expect, it } from "vitest"
import { TestFs, native, py } from "./harness.js"

const t = new TestFs("requests")
const served = () => native.fuse_native_requests_served()

beforeAll(async () => {
  t.put("fast.bin", randomBytes(1 << 20))
  t.put(".quiet/status", "quiet\n")
  t.put(".quieter/file", "counted\n")
  // fast.bin's reads are served on the FUSE threads, never reaching the handlers
  t.tie = (p) => ({ thread: p.startsWith("/fast") })
  native.fuse_native_requests_quiet(".quiet")
  // names and attributes kept: a listing and an open reach the file system, a stat of a name seen does not
  await t.mount(["entry_timeout=10", "attr_timeout=10"])
})
afterAll(() => t.close())

/** Lists `dir` and reads `file` `times` times each, from another process. */
const use = (dir: string, file: string, times: number) =>
  py<null>(
    `
for _ in range(ARG["times"]):
    os.listdir(ARG["dir"])
    with open(ARG["file"], "rb") as f: f.read()
print("null")
`,
    { dir: t.at(dir), file: t.at(file), times }
  )

it("counts the reads the FUSE threads serve themselves", async () => {
  const before = served()
  await py<null>(`with open(ARG, "rb") as f: f.read()\nprint("null")`, t.at("fast.bin"))
  expect(t.count("read", "/fast.bin"), "reads the handlers saw").toBe(0)
  // 1 MiB in reads of at most 128 KiB (max_read), and the open and the release
  expect(served() - before).toBeGreaterThanOrEqual(8 + 2)
})

it("does not count requests for the root itself (every path walk revalidates it)", async () => {
  const before = served()
  await py<null>(`for _ in range(10):\n    os.listdir(ARG)\n    os.stat(ARG)\nprint("null")`, t.at(""))
  expect(t.count("readdir", "/"), "listings of the root that reached the handlers").toBeGreaterThanOrEqual(10)
  expect(served() - before).toBe(0)
})

it("does not count requests for the quiet folder or below; a name that only starts with its name counts", async () => {
  await use(".quiet", ".quiet/status", 1)
  await use(".quieter", ".quieter/file", 1)
  const before = served()
  const readdirs = t.count("readdir", "/.quiet")
  await use(".quiet", ".quiet/status", 10)
  expect(t.count("readdir", "/.quiet") - readdirs, "listings that reached the handlers").toBe(10)
  expect(served() - before, "requests counted").toBe(0)
  await use(".quieter", ".quieter/file", 10)
  expect(served() - before).toBeGreaterThanOrEqual(10 * 3)
})
