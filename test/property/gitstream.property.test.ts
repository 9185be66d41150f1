/**
 * The streaming parsers of git plumbing output give the same records however the output is cut
 * into chunks, and agree with real git.
 */
import fc from "fast-check"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { BatchParser, type LsTreeEntry, LsTreeParser } from "../../src/effects/gitstream.js"

/** Cuts a buffer at the given offsets (sorted, deduplicated, within it). */
const cut = (buf: Buffer, at: ReadonlyArray<number>): Array<Buffer> => {
  const points = [...new Set(at.map((n) => n % (buf.length + 1)))].sort((a, b) => a - b)
  const out: Array<Buffer> = []
  let from = 0
  for (const p of points) {
    out.push(buf.subarray(from, p))
    from = p
  }
  out.push(buf.subarray(from))
  return out
}

const oid = fc.stringMatching(/^[0-9a-f]{40}$/)
// big blobs (several chunks long) as a random head and a long fill: cheap to make and compare
const bigBlob = fc.tuple(fc.uint8Array({ maxLength: 20 }), fc.integer({ min: 70_000, max: 140_000 }), fc.integer({ min: 0, max: 255 }))
const blob = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 1, arbitrary: bigBlob.map(([head, n, fill]) => Buffer.concat([Buffer.from(head), Buffer.alloc(n, fill)])) }
)
const batchRecord = fc.oneof(
  { weight: 5, arbitrary: fc.record({ oid, data: blob }) },
  { weight: 1, arbitrary: fc.record({ oid, data: fc.constant(undefined) }) }
)

const batchOutput = (recs: ReadonlyArray<{ oid: string; data: Buffer | undefined }>): Buffer =>
  Buffer.concat(
    recs.flatMap((r) => (r.data ? [Buffer.from(`${r.oid} blob ${r.data.length}\n`), r.data, Buffer.from("\n")] : [Buffer.from(`${r.oid} missing\n`)]))
  )

/** Records with their bytes as hex (vitest compares strings much faster than buffers). */
const shown = (recs: ReadonlyArray<{ oid: string; data: Buffer | undefined }>) => recs.map((r) => ({ oid: r.oid, data: r.data?.toString("hex") }))

const parseBatch = (chunks: ReadonlyArray<Buffer>) => {
  const got: Array<{ oid: string; data: Buffer | undefined }> = []
  const p = new BatchParser((oid, data) => got.push({ oid, data: data && Buffer.from(data) }))
  for (const c of chunks) p.push(c)
  return { got, partial: p.partial }
}

const pathName = fc.stringMatching(/^[a-zé\u4e2d\t ._-]{1,12}$/)
const lsEntry = fc.record({
  path: fc.array(pathName, { minLength: 1, maxLength: 3 }).map((xs) => xs.join("/")),
  mode: fc.constantFrom("100644", "100755", "120000"),
  oid,
  size: fc.nat({ max: 10_000_000 })
})
const lsOutput = (es: ReadonlyArray<LsTreeEntry>): Buffer =>
  Buffer.concat(es.map((e) => Buffer.from(`${e.mode} blob ${e.oid} ${String(e.size).padStart(7)}\t${e.path}\0`, "utf8")))

const parseLs = (chunks: ReadonlyArray<Buffer>) => {
  const got: Array<LsTreeEntry> = []
  const p = new LsTreeParser((e) => got.push(e))
  for (const c of chunks) p.push(c)
  return { got, partial: p.partial }
}

describe("cat-file --batch output, parsed as it arrives", () => {
  it("gives every object, in order, however the output is cut", () => {
    fc.assert(
      fc.property(fc.array(batchRecord, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), (recs, at) => {
        const { got, partial } = parseBatch(cut(batchOutput(recs), at))
        expect(partial).toBe(false)
        expect(shown(got)).toEqual(shown(recs))
      }),
      { numRuns: 200 }
    )
  })

  it("says so when the output stops in the middle of an object", () => {
    fc.assert(
      fc.property(fc.array(batchRecord, { minLength: 1, maxLength: 5 }), fc.nat(), (recs, n) => {
        const whole = batchOutput(recs)
        const last = batchOutput(recs.slice(-1)).length
        const lost = 1 + (n % (last - 1)) // a cut inside the last record, not between two
        const { got, partial } = parseBatch([whole.subarray(0, whole.length - lost)])
        expect(partial).toBe(true)
        expect(shown(got)).toEqual(shown(recs.slice(0, -1)))
      })
    )
  })
})

describe("ls-tree -r -l -z output, parsed as it arrives", () => {
  it("gives every entry, in order, however the output is cut (even inside a multi-byte character)", () => {
    fc.assert(
      fc.property(fc.array(lsEntry, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (es, at) => {
        const { got, partial } = parseLs(cut(lsOutput(es), at))
        expect(partial).toBe(false)
        expect(got).toEqual(es)
      })
    )
  })

  it("reads a real repository's listing and blobs the way git prints them", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sharebox-gitstream-"))
    try {
      const git = (args: Array<string>, input?: string | Buffer) =>
        execFileSync("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", ...args], { input, maxBuffer: 1 << 28 })
      git(["init", "-q"])
      fs.mkdirSync(path.join(dir, "sous dossier"))
      fs.writeFileSync(path.join(dir, "sous dossier", "café\tau lait.txt"), "crème\n")
      fs.writeFileSync(path.join(dir, "big.bin"), Buffer.alloc(300_000, 7))
      fs.symlinkSync("../.git/annex/objects/Xx/Yy/KEY/KEY", path.join(dir, "link"))
      git(["add", "-A"])
      git(["commit", "-q", "-m", "t"])
      const listing = parseLs(cut(git(["ls-tree", "-r", "-l", "-z", "--full-tree", "HEAD"]), [3, 50, 51, 99, 140]))
      expect(listing.partial).toBe(false)
      expect(listing.got.map((e) => [e.path, e.mode])).toEqual([
        ["big.bin", "100644"],
        ["link", "120000"],
        ["sous dossier/café\tau lait.txt", "100644"]
      ])
      expect(listing.got[0]!.size).toBe(300_000)
      const out = git(["cat-file", "--batch"], listing.got.map((e) => e.oid).join("\n") + "\n0000000000000000000000000000000000000000\n")
      const { got } = parseBatch(cut(out, [10, 65_536, 131_072, 300_100]))
      expect(got.map((g) => g.data?.length)).toEqual([300_000, "../.git/annex/objects/Xx/Yy/KEY/KEY".length, Buffer.byteLength("crème\n"), undefined])
      expect(got[1]!.data!.toString()).toBe("../.git/annex/objects/Xx/Yy/KEY/KEY")
      expect(got[2]!.data!.toString()).toBe("crème\n")
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
