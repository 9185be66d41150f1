/** git-annex's remote.log as sharebox reads it (src/domain/remotelog.ts). */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { enablingOf, parseRemoteLog, shellWord } from "../../src/domain/remotelog.js"

describe("parseRemoteLog", () => {
  it("reads git-annex's lines, the newest of each UUID winning whatever their order, with &NN; escapes decoded", () => {
    const log = [
      "u1 encryption=none name=usb type=directory timestamp=20.5s",
      "u2 encryption=none name=rs rsyncurl=/srv/x&32;y type=rsync timestamp=10s",
      "u1 encryption=none name=usb2 type=directory timestamp=30s",
      "u1 encryption=none name=old type=directory timestamp=1s",
      "garbage",
      "u3 name=no-type timestamp=5s",
      "u4 name=x type=S3 timestamp=nope"
    ].join("\n")
    const rs = parseRemoteLog(log)
    expect(rs.map((r) => [r.uuid, r.name, r.type, r.timestamp])).toEqual([
      ["u2", "rs", "rsync", 10],
      ["u1", "usb2", "directory", 30]
    ])
    expect(rs[0]!.config.get("rsyncurl")).toBe("/srv/x y")
  })

  it("is total: any text gives remotes with a name, a type and a finite time, one per UUID", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom("u name=a type=git timestamp=1s", "u name=b type=rsync timestamp=2s", "v name=&32; type=S3 timestamp=3s")), { maxLength: 10 }), (ls) => {
        const rs = parseRemoteLog(ls.join("\n"))
        expect(new Set(rs.map((r) => r.uuid)).size).toBe(rs.length)
        for (const r of rs) {
          expect(r.name.length).toBeGreaterThan(0)
          expect(r.type.length).toBeGreaterThan(0)
          expect(Number.isFinite(r.timestamp)).toBe(true)
        }
      })
    )
  })
})

describe("enablingOf", () => {
  const remote = (type: string) => parseRemoteLog(`u name=n type=${type} timestamp=1s`)[0]!
  it("enables by itself only remotes git-annex enables from the log alone; a program a peer names or a host's own path is a person's call", () => {
    for (const t of ["rsync", "git", "gcrypt", "S3", "webdav"]) expect(enablingOf(remote(t)).kind, t).toBe("self")
    for (const t of ["directory", "external", "hook", "adb", "bup"]) expect(enablingOf(remote(t)).kind, t).toBe("person")
  })
})

describe("shellWord", () => {
  it("gives back what a shell reads as one word", () => {
    expect(shellWord("usb")).toBe("usb")
    expect(shellWord("it's here")).toBe(`'it'\\''s here'`)
  })
})
