import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  DIR_MARKER,
  ancestorsOf,
  baseName,
  decodeName,
  decodePath,
  encodeName,
  encodePath,
  isWithin,
  joinPath,
  nameProblem,
  parentOf,
  pathProblem,
  viewPathProblem
} from "../../src/domain/paths.js"
import { boundaryName, mountName, specialNames } from "./arbitraries.js"

/** The rule of DESIGN.md section 4, stated independently of the implementation. */
const isGitName = (c: string): boolean => /^\.[gG][iI][tT]$/.test(c)
const referenceComponentOk = (c: string): boolean =>
  c !== "" && c !== "." && c !== ".." && !c.includes("\0") && Buffer.byteLength(c, "utf8") <= 255
const referenceValid = (p: string): boolean =>
  p !== "" && p.split("/").every((c) => referenceComponentOk(c) && !isGitName(c))
/** Mount paths: `.git` is allowed (it is escaped), `.sharebox` at the root is reserved. */
const referenceViewValid = (p: string): boolean =>
  p !== "" && p.split("/")[0] !== ".sharebox" && p.split("/").every(referenceComponentOk)

const component: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: mountName },
  { weight: 2, arbitrary: fc.constantFrom("", ".", "..", ".git", ".GiT", "gi\0t", "\0", ".git ", "..git", ".sharebox") },
  { weight: 1, arbitrary: boundaryName },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) }
)

/** Candidate paths, valid and invalid, including leading and trailing slashes. */
const candidatePath: fc.Arbitrary<string> = fc.oneof(
  fc.array(component, { maxLength: 4 }).map((cs) => cs.join("/")),
  fc.tuple(fc.constantFrom("/", ""), fc.array(component, { minLength: 1, maxLength: 3 }), fc.constantFrom("/", "")).map(
    ([a, cs, b]) => a + cs.join("/") + b
  ),
  fc.string({ unit: "binary", maxLength: 20 })
)

/** Stored names: anything a git tree entry may be called. */
const storedName: fc.Arbitrary<string> = fc.oneof(
  mountName,
  mountName.map(encodeName),
  fc.constantFrom(".git", ".GIT", ".shareboxdir", ".ShareBoxDir", ".shareboxdir~~", ".git~~~", "x.git~", ".gitx~"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 8 })
)

describe("path validation", () => {
  it("pathProblem accepts exactly the paths the design allows", () => {
    fc.assert(
      fc.property(candidatePath, (p) => {
        expect(pathProblem(p) === undefined, JSON.stringify(p)).toBe(referenceValid(p))
      }),
      { numRuns: 5000 }
    )
  })

  it("viewPathProblem accepts exactly the valid mount paths", () => {
    fc.assert(
      fc.property(candidatePath, (p) => {
        expect(viewPathProblem(p) === undefined, JSON.stringify(p)).toBe(referenceViewValid(p))
      }),
      { numRuns: 3000 }
    )
  })

  it("regression: names are measured in UTF-8 bytes, not characters", () => {
    expect(nameProblem("a".repeat(255))).toBeUndefined()
    expect(nameProblem("a".repeat(256))).toBe("name-too-long")
    expect(nameProblem("a".repeat(253) + "é")).toBeUndefined()
    expect(nameProblem("a".repeat(254) + "é")).toBe("name-too-long")
    expect(nameProblem("a".repeat(251) + "🙂")).toBeUndefined()
    expect(nameProblem("a".repeat(252) + "🙂")).toBe("name-too-long")
    expect(pathProblem("x/.GIT/y")).toBe("git-component")
    expect(pathProblem("x/.git~/y")).toBeUndefined()
  })
})

describe("escaping .git and .shareboxdir", () => {
  it("decodeName undoes encodeName for every mount name", () => {
    fc.assert(
      fc.property(fc.oneof(mountName, fc.constantFrom(...specialNames)), (n) => {
        expect(decodeName(encodeName(n))).toBe(n)
      }),
      { numRuns: 3000 }
    )
  })

  it("encodeName undoes decodeName for every stored name a mount name encodes to", () => {
    fc.assert(
      fc.property(storedName, (s) => {
        const d = decodeName(s)
        if (d !== undefined) expect(encodeName(d)).toBe(s)
      }),
      { numRuns: 3000 }
    )
  })

  it("encodeName is injective", () => {
    fc.assert(
      fc.property(mountName, mountName, (a, b) => {
        if (a !== b) expect(encodeName(a)).not.toBe(encodeName(b))
      }),
      { numRuns: 3000 }
    )
  })

  it("decodeName rejects exactly the bare .git and the bare marker name, in any letter case", () => {
    fc.assert(
      fc.property(storedName, (s) => {
        const rejected = isGitName(s) || s.toLowerCase() === DIR_MARKER
        expect(decodeName(s) === undefined, JSON.stringify(s)).toBe(rejected)
      }),
      { numRuns: 3000 }
    )
    for (const s of [".git", ".GIT", ".gIt", DIR_MARKER, ".SHAREBOXDIR", ".ShareboxDir"]) expect(decodeName(s)).toBeUndefined()
    for (const s of [".git~", ".GIT~~", ".shareboxdir~", ".git~x", "x.git"]) expect(decodeName(s)).toBeDefined()
  })

  it("a valid mount path encodes to a path with no .git component and no bare marker, and decodes back", () => {
    const mountPath = fc
      .array(fc.oneof(mountName, fc.constantFrom(".git", ".GIT", DIR_MARKER)), { minLength: 1, maxLength: 4 })
      .map((ns) => ns.join("/"))
    fc.assert(
      fc.property(mountPath, (p) => {
        const s = encodePath(p)
        for (const c of s.split("/")) {
          expect(isGitName(c)).toBe(false)
          expect(c.toLowerCase()).not.toBe(DIR_MARKER)
        }
        expect(decodePath(s)).toBe(p)
      }),
      { numRuns: 3000 }
    )
  })
})

describe("path arithmetic", () => {
  const path = fc.array(mountName, { minLength: 1, maxLength: 4 }).map((ns) => ns.join("/"))

  it("parentOf, baseName and joinPath agree, and ancestors are the proper prefixes", () => {
    fc.assert(
      fc.property(path, (p) => {
        expect(joinPath(parentOf(p), baseName(p))).toBe(p)
        const names = p.split("/")
        expect(ancestorsOf(p)).toEqual(names.slice(0, -1).map((_, i) => names.slice(0, i + 1).join("/")))
        for (const a of ancestorsOf(p)) expect(isWithin(p, a)).toBe(true)
        expect(isWithin(p, p + "x")).toBe(false)
        expect(isWithin(p + "x", p)).toBe(false)
      }),
      { numRuns: 1000 }
    )
  })
})
