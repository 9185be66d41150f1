/**
 * The binding's chown (fuse_native_setattrs_here, src/setattrs.c): once switched on and the owner
 * set, a chown of a name in the names table is answered on the FUSE thread exactly as sharebox's
 * handler (src/fuse/attributes.ts, chown) answers it: 0 when the owner and group are kept or left
 * (-1), EPERM otherwise. The handler here is never asked then; the root, the exempt folder, and
 * every chown before the switch (or after it is off again) still are. A chown of a missing name
 * never gets that far: its lookup is answered ENOENT from the table (names.c).
 *
 * libfuse asks getattr after every setattr it answers (for the attributes of its reply), so the
 * getattr handler still sees those: only the chown round trip is saved.
 */
import * as os from "node:os"
import fc from "fast-check"
import { afterAll, beforeAll, expect, it } from "vitest"
import { chown } from "../../src/fuse/attributes.js"
import type { FuseContext } from "../../src/fuse/context.js"
import { ENOENT, TestFs, native, py } from "./harness.js"

const EPERM = os.constants.errno.EPERM
const UID = 1234
const GID = 5678
const t = new TestFs("setattrs")
const names = ["dir", "dir/a.txt", ".exempt", ".exempt/x"]

/** attributes.ts's chown over a view of `names` and the owner set here: the answer to match */
const view = new Set(["", ...names])
const cx = { views: { view: { has: (p: string) => view.has(p) } }, uid: UID, gid: GID } as unknown as FuseContext
const model = (p: string, uid: number, gid: number): number => chown(cx, p, uid, gid)

beforeAll(async () => {
  t.put("dir/a.txt", "a")
  t.put(".exempt/x", "x")
  // what reaches the handler is answered by the model too: only the counts tell who answered
  t.chownAnswer = (uid, gid) => model("dir/a.txt", uid, gid)
  native.fuse_native_names_reset(Buffer.from(names.map((n) => n + "\0").join(""), "utf8"), ".exempt")
  native.fuse_native_owner(UID, GID, 0)
  await t.mount()
})
afterAll(async () => {
  native.fuse_native_setattrs_here(0)
  await t.close()
})

/** chowns each [path, uid, gid] under the mount: 0 or the negated errno */
const CHOWN = `
out = []
for p, uid, gid in ARG:
    try:
        os.chown(p, uid, gid)
        out.append(0)
    except OSError as e:
        out.append(-e.errno)
print(json.dumps(out))
`
const chownAll = (cases: ReadonlyArray<readonly [string, number, number]>) => py<Array<number>>(CHOWN, cases.map(([p, u, g]) => [t.at(p), u, g]))

it("until it is switched on, every chown goes to the handler", async () => {
  expect(await chownAll([["dir/a.txt", UID, GID]])).toEqual([0])
  expect(t.count("chown", "/dir/a.txt")).toBe(1)
})

it("switched on, a chown of a name in the table is answered as the handler would, without it", async () => {
  native.fuse_native_setattrs_here(1)
  const before = t.count("chown")
  const id = fc.constantFrom(-1, 0, 1, UID, GID, 4321)
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom("dir/a.txt", "dir"), id, id), { minLength: 1, maxLength: 8 }), async (cases) => {
      const got = await chownAll(cases)
      expect(got).toEqual(cases.map(([p, u, g]) => model(p, u === -1 ? 0xffffffff : u, g === -1 ? 0xffffffff : g)))
    }),
    { numRuns: 25, examples: [[[["dir/a.txt", UID, GID]]], [[["dir/a.txt", UID, 4321]]], [[["dir", -1, -1]]], [[["dir/a.txt", 0, GID]]]] }
  )
  expect(t.count("chown") - before, "chowns the handler saw").toBe(0)
})

it("a chown to another owner is refused with EPERM, and a chown of a missing name is ENOENT", async () => {
  const before = t.calls.length
  expect(await chownAll([["dir/a.txt", 4321, GID], ["dir/a.txt", UID, 4321], ["dir/missing", UID, GID]])).toEqual([-EPERM, -EPERM, -ENOENT])
  // the missing name's lookup was answered from the table: no request reached a handler for it
  expect(t.calls.slice(before).filter((c) => c.endsWith("/dir/missing"))).toEqual([])
  expect(t.calls.slice(before).filter((c) => c.startsWith("chown "))).toEqual([])
})

it("libfuse still asks getattr for the reply's attributes: an fchown of an open file costs that one request", async () => {
  /** creates `name`, writes a byte, fchowns it as told, closes it: the answers, and the requests the handlers saw */
  const made = async (name: string, chowns: ReadonlyArray<readonly [number, number]>) => {
    const before = t.calls.length
    const got = await py<Array<number>>(
      `
fd = os.open(ARG["path"], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
os.write(fd, b"x")
out = []
for uid, gid in ARG["chowns"]:
    try:
        os.fchown(fd, uid, gid)
        out.append(0)
    except OSError as e:
        out.append(-e.errno)
os.close(fd)
print(json.dumps(out))
`,
      { path: t.at(name), chowns }
    )
    return { got, seen: t.calls.slice(before).filter((c) => c.endsWith(" /" + name)).map((c) => c.split(" ")[0]) }
  }
  const plain = await made("dir/plain.txt", [])
  const chowned = await made("dir/chowned.txt", [[UID, GID], [-1, GID], [4321, -1]])
  expect(chowned.got).toEqual([0, 0, -EPERM])
  expect(chowned.seen.filter((op) => op === "chown"), "chowns the handler saw").toEqual([])
  // one getattr more per chown answered 0 (libfuse's fuse_lib_setattr asks it for the reply), none for the refusal
  expect(chowned.seen.length - plain.seen.length).toBe(2)
  expect(chowned.seen.filter((op) => op === "getattr").length - plain.seen.filter((op) => op === "getattr").length).toBe(2)
})

it("the root and the exempt folder still go to the handler", async () => {
  const before = t.count("chown")
  expect(await chownAll([["", UID, GID], [".exempt/x", UID, GID], [".exempt", -1, GID]])).toEqual([0, 0, 0])
  expect(t.count("chown") - before).toBe(3)
  expect(t.count("chown", "/.exempt/x")).toBe(1)
})

it("switched off again, chowns go to the handler", async () => {
  native.fuse_native_setattrs_here(0)
  const before = t.count("chown")
  expect(await chownAll([["dir/a.txt", UID, GID]])).toEqual([0])
  expect(t.count("chown") - before).toBe(1)
})

it("a chmod or utimens answered with the attributes after it saves libfuse's getattr", async () => {
  /** creates `name`, fchmods it to 0o751 and sets its times, stats it through the handle: the mode, mtime and the requests the handlers saw */
  const made = async (name: string) => {
    const before = t.calls.length
    const got = await py<{ mode: number; mtime: number }>(
      `
fd = os.open(ARG, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
os.fchmod(fd, 0o751)
os.utime(fd, ns=(1_600_000_000_000_000_000, 1_700_000_000_000_000_000))
st = os.fstat(fd)
os.close(fd)
print(json.dumps({"mode": st.st_mode & 0o7777, "mtime": st.st_mtime_ns // 1_000_000}))
`,
      t.at(name)
    )
    return { got, seen: t.calls.slice(before).filter((c) => c.endsWith(" /" + name)).map((c) => c.split(" ")[0]) }
  }
  t.changedStat = false
  const asked = await made("dir/asked.txt")
  t.changedStat = true
  const given = await made("dir/given.txt")
  t.changedStat = false
  for (const r of [asked, given]) {
    expect(r.got.mode).toBe(0o751)
    expect(r.seen.filter((op) => op === "chmod" || op === "utimens")).toEqual(["chmod", "utimens"])
  }

  // one getattr each for the chmod's and the utimens's reply when not given, none when given
  expect(asked.seen.filter((op) => op === "getattr").length - given.seen.filter((op) => op === "getattr").length).toBe(2)
})
