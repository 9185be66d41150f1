/**
 * The keys a replay gives staging files (src/effects/staged.ts): read and hashed on the thread pool,
 * they are the keys a synchronous read and hash gives, for any content and size (0 bytes, 1, either
 * side of the 256 KiB line between the small files read whole and the big ones streamed), and the
 * writes whose staging file is gone are the ones reported lost.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import fc from "fast-check"
import { afterAll, describe, expect, it } from "vitest"
import type { Event } from "../../src/domain/events.js"
import { sha256Key } from "../../src/domain/key.js"
import { hashSmall } from "../../src/effects/hash.js"
import { stagedContent } from "../../src/effects/staged.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sb-staged-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

const KiB = 1024
const size = fc.oneof(
  fc.constantFrom(0, 1, 2, 255 * KiB, 256 * KiB - 1, 256 * KiB, 256 * KiB + 1, 512 * KiB),
  fc.integer({ min: 0, max: 4 * KiB }),
  fc.integer({ min: 0, max: 600 * KiB })
)
/** Content of a size: random bytes (a seed repeated, so big files are quick to make). */
const content = size.chain((n) => fc.uint8Array({ minLength: Math.min(n, 64), maxLength: Math.min(n, 64) }).map((seed) => fillOf(seed, n)))
const fillOf = (seed: Uint8Array, n: number): Buffer => {
  const out = Buffer.alloc(n)
  for (let i = 0; i < n; i++) out[i] = (seed[i % Math.max(seed.length, 1)] ?? 0) ^ (i >> 8)
  return out
}
const name = fc.constantFrom("a.txt", "b", "c.tar.gz", "README", "x.JPG", ".hidden")

/** What the replay computed before: one synchronous read, one hash on the JavaScript thread. */
const syncKey = (file: string, fileName: string): string => {
  const data = fs.readFileSync(file)
  return sha256Key(createHash("sha256").update(data).digest("hex"), data.length, fileName)
}

let runs = 0
const stage = (files: ReadonlyArray<{ data: Buffer; name: string; gone: boolean }>) => {
  const run = `r${runs++}`
  const fileOf = (id: string) => path.join(dir, id)
  const events: Array<Event> = files.map((f, i) => {
    const id = `${run}-${i}`
    fs.writeFileSync(fileOf(id), f.data)
    return { op: "write", path: `d/${i}/${f.name}`, content: { kind: "staged", id, size: f.data.length }, executable: false, base: null, v: 1, seq: i + 1, host: "h", time: i }
  })
  return { events, fileOf }
}

describe("staging files' keys", () => {
  it("a small file's key on the thread pool is the synchronous key", async () => {
    await fc.assert(
      fc.asyncProperty(content, name, async (data, fileName) => {
        const file = path.join(dir, `one-${runs++}`)
        fs.writeFileSync(file, data)
        expect(await hashSmall(file, fileName)).toBe(syncKey(file, fileName))
        fs.rmSync(file)
      }),
      { numRuns: 60 }
    )
  })

  it("a replay's keys are the synchronous keys, and exactly the writes whose file is gone are lost", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ data: content, name, gone: fc.integer({ min: 0, max: 4 }).map((n) => n === 0) }), { minLength: 0, maxLength: 24 }), async (files) => {
        const { events, fileOf } = stage(files)
        const expected = new Map<string, string>()
        events.forEach((e, i) => {
          if (e.op !== "write" || e.content.kind !== "staged") return
          if (files[i]!.gone) fs.rmSync(fileOf(e.content.id))
          else expected.set(e.content.id, syncKey(fileOf(e.content.id), files[i]!.name))
        })
        const got = await stagedContent(events, fileOf)
        expect(new Map(got.content)).toEqual(expected)
        expect(got.lost).toEqual(events.filter((_, i) => files[i]!.gone))
        expect(got.events.length).toBe(expected.size)
        for (const e of events) if (e.op === "write" && e.content.kind === "staged") fs.rmSync(fileOf(e.content.id), { force: true })
      }),
      { numRuns: 40 }
    )
  })

  it("a read that fails for another reason than a missing file fails the replay", async () => {
    const { events, fileOf } = stage([{ data: Buffer.from("x"), name: "a", gone: false }])
    const id = (events[0] as { content: { id: string } }).content.id
    fs.rmSync(fileOf(id))
    fs.mkdirSync(fileOf(id)) // EISDIR: not lost content, a fault to report
    await expect(stagedContent(events, fileOf)).rejects.toMatchObject({ code: "EISDIR" })
    fs.rmdirSync(fileOf(id))
  })
})
