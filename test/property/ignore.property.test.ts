/**
 * The laws of `.shareboxignore` matching (src/domain/ignore.ts), and its agreement with git's own
 * reading of the same rules in a real repository (`git ls-files --others --ignored`).
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { scaled } from "../integration/harness.js"
import { IGNORE_FILE, MAX_IGNORE_BYTES, MAX_IGNORE_RULES, type RuleFile, compileRules, isIgnored } from "../../src/domain/ignore.js"

const names = ["a", "b", "c", "x", "y", "z.swp", "build", "node_modules", "a b", "!x", "#y"]
const patterns = [
  "x", "/x", "x/", "*.swp", "!z.swp", "build/", "!build/", "b/x", "**/y", "a/**", "*", "!*/", "!*", "# comment", "",
  "\\!x", "\\#y", "x*", "[xy]", "?", "b/", "!b/", "node_modules", "node_modules/", "../x", "a/../x", "x ", "a b", "/a b/",
  "**", "a/*/x", "!a", "!/b", "c/**/y", "*.swp/", "\\*", "[z-a]", "build/**", "!build/x"
]
const ruleDirs = ["", "a", "a/b", "c", "b/c", "a b"]

const text = fc.array(fc.constantFrom(...patterns), { maxLength: 5 }).map((ls) => ls.join("\n") + "\n")
const relPath = fc.array(fc.constantFrom(...names), { minLength: 1, maxLength: 4 }).map((cs) => cs.join("/"))
const ruleFiles: fc.Arbitrary<Array<RuleFile>> = fc
  .uniqueArray(fc.constantFrom(...ruleDirs), { maxLength: 3 })
  .chain((dirs) => fc.tuple(...dirs.map((d) => text.map((t) => ({ dir: d, text: t })))))

const git = (cwd: string, args: ReadonlyArray<string>): string =>
  execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" } })

/** Files that can all exist at once beside the rule files' folders: no file where a folder must be. */
const layable = (files: ReadonlyArray<string>, dirs: ReadonlyArray<string>): Array<string> => {
  const all = [...files, ...dirs.filter((d) => d !== "")]
  return [...new Set(files)].filter((p) => !dirs.includes(p) && !all.some((q) => q.startsWith(p + "/")) && !p.split("/").includes(".git"))
}

describe(".shareboxignore matching", () => {
  it("agrees with git on random rule files and paths, in a real repository", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "sb-ignore-"))
    let n = 0
    try {
      fc.assert(
        fc.property(ruleFiles, fc.array(relPath, { minLength: 1, maxLength: 8 }), (rules, paths) => {
          const repo = path.join(root, `r${n++}`)
          fs.mkdirSync(repo)
          git(repo, ["init", "-q"])
          const files = layable(paths, rules.map((r) => r.dir))
          for (const r of rules) {
            fs.mkdirSync(path.join(repo, r.dir), { recursive: true })
            fs.writeFileSync(path.join(repo, r.dir, ".gitignore"), r.text)
          }
          for (const f of files) {
            fs.mkdirSync(path.dirname(path.join(repo, f)), { recursive: true })
            fs.writeFileSync(path.join(repo, f), "")
          }
          const listed = git(repo, ["ls-files", "-z", "--others", "--ignored", "--exclude-per-directory=.gitignore"])
          const byGit = new Set(listed.split("\0").filter((s) => s !== ""))
          const compiled = compileRules(rules)
          for (const f of files) expect([f, compiled.test(f, false)]).toEqual([f, byGit.has(f)])
          fs.rmSync(repo, { recursive: true, force: true })
        }),
        { numRuns: scaled(60, 150) } // each run a real repository and a git ls-files
      )
    } finally {
      fs.rmSync(root, { recursive: true, force: true })
    }
  }, 120_000)

  it("a rule set without rules ignores nothing", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...ruleDirs).map((dir) => ({ dir, text: "# only a comment\n\n" }))), relPath, fc.boolean(), (rules, p, d) => {
        expect(isIgnored(rules, p, d)).toBe(false)
      })
    )
  })

  it("anything below an ignored folder is ignored, whatever the deeper rules say", () => {
    fc.assert(
      fc.property(ruleFiles, relPath, relPath, fc.boolean(), (rules, dir, below, d) => {
        const compiled = compileRules(rules)
        fc.pre(compiled.test(dir, true))
        expect(compiled.test(`${dir}/${below}`, d)).toBe(true)
      })
    )
  })

  it("a rule file and .sharebox/ are never ignored by a rule, though a rule file below an ignored folder is with it", () => {
    fc.assert(
      fc.property(ruleFiles, fc.constantFrom(...ruleDirs), (rules, dir) => {
        const all = [...rules, { dir: "", text: `*\n${IGNORE_FILE}\n.sharebox\n` }]
        const compiled = compileRules(all)
        expect(compiled.test(".sharebox", true)).toBe(false)
        expect(compiled.test(".sharebox/status", false)).toBe(false)
        expect(compiled.test(IGNORE_FILE, false)).toBe(false)
        if (dir !== "") expect(compiled.test(`${dir}/${IGNORE_FILE}`, false)).toBe(compiled.test(dir, true))
      })
    )
  })

  it("an oversized or overlong rule file gives no rules, and never throws", () => {
    const huge = "x\n".repeat(100_000)
    expect(huge.length).toBeGreaterThan(MAX_IGNORE_BYTES)
    const many = "x\n".repeat(MAX_IGNORE_RULES + 1)
    const compiled = compileRules([{ dir: "", text: huge }, { dir: "a", text: many }])
    expect(compiled.test("x", false)).toBe(false)
    expect(compiled.test("a/x", false)).toBe(false)
    expect(compiled.refused.map((r) => r.dir)).toEqual(["", "a"])
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: "binary" }), relPath, fc.boolean(), (t, p, d) => {
        expect(typeof isIgnored([{ dir: "", text: t }, { dir: "a", text: t }], p, d)).toBe("boolean")
      })
    )
  })
})
