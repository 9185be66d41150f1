import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { isKey, keyExtension, keyOfAnnexLink, keySize, parseKey, parsePointer, pointerText, sha256Key } from "../../src/domain/key.js"
import { mountName } from "./arbitraries.js"

const hex64 = fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 64, maxLength: 64 })
const size = fc.oneof(fc.nat(), fc.constantFrom(0, Number.MAX_SAFE_INTEGER), fc.maxSafeNat())

/** File names that look like they have extensions: dotted runs of short alphanumeric parts. */
const dottedName: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom("", "a", "tar", "gz", "JPG", "jpeg", "x1", "12345", "é", "a-b", " "),
      fc.string({ unit: fc.constantFrom("a", "Z", "9", "-", "_", "é"), maxLength: 6 })
    ),
    { minLength: 1, maxLength: 5 }
  )
  .map((ps) => ps.join("."))

/** Keys as git-annex writes them: backend, fields, then a name with no slash or newline. */
const annexKey: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom("SHA256E", "SHA256", "SHA1", "MD5E", "WORM", "URL", "BLAKE2B256E"),
    fc.option(size, { nil: undefined }),
    fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
    fc.oneof(hex64, hex64.chain((h) => dottedName.map((n) => h + keyExtension(n))), fc.string({ unit: "binary", minLength: 1, maxLength: 20 }))
  )
  // a key is one file name with no control character (see parseKey: keys come from peers)
  .filter(([, , , name]) => !/[\u0000-\u001f\u007f/]/.test(name))
  .map(([backend, s, m, name]) => `${backend}${s === undefined ? "" : `-s${s}`}${m === undefined ? "" : `-m${m}`}--${name}`)

describe("keyExtension", () => {
  it("is empty or up to two short alphanumeric extensions that end the name, never the whole name", () => {
    fc.assert(
      fc.property(fc.oneof(dottedName, mountName), (name) => {
        const ext = keyExtension(name)
        if (ext === "") return
        expect(ext).not.toBe(name)
        expect(name.endsWith(ext)).toBe(true)
        expect(ext).toMatch(/^(\.[A-Za-z0-9]{1,4}){1,2}$/)
        // the extension never starts at the very beginning of the name
        expect(name.length - ext.length).toBeGreaterThan(0)
      }),
      { numRuns: 3000 }
    )
  })

  it("takes the last extensions greedily", () => {
    expect(keyExtension("photo.JPG")).toBe(".JPG")
    expect(keyExtension("a.tar.gz")).toBe(".tar.gz")
    expect(keyExtension("a.b.c.d")).toBe(".c.d")
    expect(keyExtension("a.jpeg1.gz")).toBe(".gz")
    expect(keyExtension(".bashrc")).toBe("")
    expect(keyExtension(".a.b")).toBe(".b")
    expect(keyExtension("noext")).toBe("")
    expect(keyExtension("trailing.")).toBe("")
  })
})

describe("keys", () => {
  it("parseKey gives back the size sha256Key put in", () => {
    fc.assert(
      fc.property(hex64, size, fc.oneof(dottedName, mountName), (h, n, name) => {
        const k = sha256Key(h, n, name)
        const p = parseKey(k)
        expect(p).toEqual({ backend: "SHA256E", size: n, name: h + keyExtension(name) })
        expect(keySize(k)).toBe(n)
        expect(isKey(k)).toBe(true)
      }),
      { numRuns: 2000 }
    )
  })

  it("a pointer file names the key it was written for", () => {
    fc.assert(
      fc.property(annexKey, (k) => {
        expect(isKey(k)).toBe(true)
        expect(parsePointer(pointerText(k))).toBe(k)
        expect(parsePointer(pointerText(k).slice(0, -1))).toBe(k) // without the final newline
      }),
      { numRuns: 2000 }
    )
  })

  it("an annex link names its key, at any depth", () => {
    fc.assert(
      fc.property(annexKey, fc.nat(4), (k, depth) => {
        const target = "../".repeat(depth) + `.git/annex/objects/Xk/3P/${k}/${k}`
        expect(keyOfAnnexLink(target)).toBe(k)
        expect(keyOfAnnexLink(`.git/annex/objects/Xk/3P/${k}/${k}x`)).toBeUndefined()
      }),
      { numRuns: 1000 }
    )
  })

  it("text that is not a pointer is not read as one", () => {
    expect(parsePointer("/annex/objects/SHA256E-s1--ab\nmore")).toBeUndefined()
    expect(parsePointer("/annex/objects/not-a-key")).toBeUndefined()
    expect(parsePointer("hello\n")).toBeUndefined()
  })
})

describe("keys from peers", () => {
  it("a key that is not one safe file name is no key: slash, control characters, over 255 bytes", () => {
    const good = "SHA256E-s3--" + "a".repeat(64) + ".txt"
    expect(parseKey(good)).toBeDefined()
    for (const bad of [
      "SHA256E-s3--a/../../x",
      "SHA256E-s3--a\nSHA256E-s3--b",
      "SHA256E-s3--a\0b",
      "SHA256E-s3--a\x1b[31m",
      "SHA256E-s3--" + "a".repeat(300),
      "SHA256E-s3--" + "é".repeat(130)
    ]) {
      expect(parseKey(bad), JSON.stringify(bad)).toBeUndefined()
      expect(keyOfAnnexLink(`../.git/annex/objects/Ab/Cd/${bad}/${bad}`)).toBeUndefined()
      expect(parsePointer(`/annex/objects/${bad}\n`)).toBeUndefined()
    }
  })

  it("any key parseKey accepts is one name of at most 255 bytes with no control character", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (tail) => {
        const k = `SHA256E-s1--${tail}`
        if (parseKey(k) === undefined) return
        expect(Buffer.byteLength(k)).toBeLessThanOrEqual(255)
        expect(/[\u0000-\u001f\u007f/]/.test(k)).toBe(false)
      })
    )
  })
})
