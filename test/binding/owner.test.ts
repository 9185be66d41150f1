/**
 * The attributes the binding answers a create of its own with (fuse_native_owner): the owner and
 * umask JavaScript set, the permission bits asked for, an empty regular file, and the inode number
 * sharebox gives the path (FNV-1a, 32 bits, as src/fuse/attributes.ts; seen only with -o use_ino,
 * without which libfuse 2 shows its own node ids). The mount keeps attributes for 10 s here, so the
 * client's fstat right after the create shows the create's answer itself.
 */
import * as fs from "node:fs"
import { afterAll, beforeAll, expect, it } from "vitest"
import { TestFs, native, py, reclaimSpares } from "./harness.js"

const t = new TestFs("owner")

beforeAll(async () => {
  native.fuse_native_names_reset(Buffer.from("\0"), "")
  native.fuse_native_owner(1234, 5678, 0o027)
  expect(native.fuse_native_spares_start(t.spares, "s")).toBe(1)
  // use_ino: the inode numbers the file system gives (libfuse numbers its nodes otherwise)
  await t.mount(["attr_timeout=10", "use_ino"])
})
afterAll(async () => {
  for (const s of reclaimSpares()) (fs.closeSync(s.fd), fs.rmSync(`${t.spares}/${s.id}`, { force: true }))
  await t.close()
})

const fnv32 = (s: string): number => {
  let h = 0x811c9dc5
  for (const b of Buffer.from(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0
  return h || 1
}

it("a file created on the FUSE thread shows the owner, the umask and the mode asked for", async () => {
  // wait for a spare: until one is made, creates ask the handlers
  for (let i = 0; i < 200 && fs.readdirSync(t.spares).length === 0; i++) await new Promise((r) => setTimeout(r, 50))
  const st = await py<{ uid: number; gid: number; mode: number; size: number; nlink: number; ino: number }>(
    `
os.umask(0)
fd = os.open(ARG, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
st = os.fstat(fd)
os.close(fd)
print(json.dumps({"uid": st.st_uid, "gid": st.st_gid, "mode": st.st_mode, "size": st.st_size, "nlink": st.st_nlink, "ino": st.st_ino}))
`,
    t.at("new.txt")
  )
  expect(t.count("create"), "creates the handlers saw").toBe(0)
  expect(t.taken.map((c) => [c.path, c.mode])).toEqual([["new.txt", 0o666]])
  expect(st).toEqual({ uid: 1234, gid: 5678, mode: 0o100640, size: 0, nlink: 1, ino: fnv32("new.txt") })
})
