/**
 * The help a person reads: `sharebox --help`, `sharebox help COMMAND`, `sharebox COMMAND --help`
 * and `man sharebox`, all made from help/pages.ts. Each command's help names every option and
 * argument the parser takes for it (read from the parser's own definitions, so an option added
 * without help fails here), and every `-o` value mount takes; no line of @effect/cli's generic
 * help shows; an unknown command gets one line and exit 64; the checked-in man page is what the
 * pages make now, and renders without a warning.
 */
import { Command, type Usage } from "@effect/cli"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { ATIMES, FLAG_PAIRS, FOR_MOUNT, VERBS, VERSION, parseMountOptions } from "../../src/cli/argv.js"
import { subcommands } from "../../src/cli/commands/tree.js"
import { PROGRAM, pageOf } from "../../src/cli/help/pages.js"
import { manPage } from "../../src/cli/help/roff.js"
import { ROOT, exec, sharebox } from "./harness.js"

/** Any of the program's commands, whatever its arguments' types. */
type AnyCommand = Command.Command<any, never, unknown, any>
const commands = subcommands as unknown as ReadonlyArray<AnyCommand>

/** The names in a parser's usage: options (`--json`, `-v`) and arguments (`<PATH>`). */

const namesIn = (u: Usage.Usage): Array<string> => {
  switch (u._tag) {
    case "Named":
      return [...u.names]
    case "Optional":
    case "Repeated":
      return namesIn(u.usage)
    case "Alternation":
    case "Concat":
      return [...namesIn(u.left), ...namesIn(u.right)]
    default:
      return []
  }
}

const GENERIC = ["A true or false value", "A user-defined piece of text", "This setting is optional", "One of the following", "$ sharebox", "--wizard", "--log-level"]

const expectPlainHelp = (text: string, what: string) => {
  for (const g of GENERIC) expect(text, `${what}: ${g}`).not.toContain(g)
  expect(text, what).not.toContain("\x1b[")
  const long = text.split("\n").filter((l) => l.length > 80)
  expect(long, `${what}: lines over 80 columns`).toEqual([])
}

describe("sharebox help", () => {
  it("the parser's commands are the help's, in the same order", () => {
    expect(commands.map((c) => [...Command.getNames(c)][0])).toEqual(PROGRAM.commands.map((c) => c.name))
    expect([...VERBS].sort()).toEqual(PROGRAM.commands.map((c) => c.name).sort())
  })

  it("each command's help names every option and argument the parser takes for it, and no other option", () => {
    for (const cmd of commands) {
      const [name, ...parsed] = namesIn(Command.getUsage(cmd))
      const page = pageOf(name!)!
      const shown = sharebox([name!, "--help"])
      expect(shown.code, shown.stderr).toBe(0)
      const documented = page.options.flatMap((o) => o.names)
      for (const n of parsed) {
        if (n.startsWith("-")) {
          expect(documented, `${name} ${n}`).toContain(n)
          expect(shown.stdout, `${name} --help shows ${n}`).toMatch(new RegExp(`^\\s+(\\S+, )*${n}\\b`, "m"))
        } else {
          const arg = n.replace(/^<|>$/g, "")
          expect(page.args.map((a) => a.name.replace(/\.\.\.$/, "")), `${name} ${n}`).toContain(arg)
          expect(shown.stdout, `${name} --help shows ${arg}`).toMatch(new RegExp(`^\\s+${arg.replace(/\|/g, "\\|")}\\b`, "m"))
        }
      }
      // restore's --version is the parser's --version-id (normaliseArgv rewrites it)
      for (const n of documented) expect([...parsed, ...(name === "restore" ? ["--version"] : [])], `${name} documents ${n}`).toContain(n)
    }
  })

  it("mount's help names every -o value the option parser takes, and each one it names is taken", () => {
    const page = pageOf("mount")!
    const documented = new Set(page.values!.items.flatMap((o) => o.names))
    const source = fs.readFileSync(path.join(ROOT, "src/cli/argv.ts"), "utf8")
    const body = source.slice(source.indexOf("export const parseMountOptions"))
    const cases = [...body.matchAll(/case "([^"]+)":/g)].map((m) => m[1]!)
    const known = /\(known: ([^)]*)\)/.exec(parseMountOptions(["frobnicate"]) as string)![1]!.split(", ")
    const taken = new Set([...cases, ...FLAG_PAIRS.keys(), ...ATIMES.keys(), ...FOR_MOUNT, ...known])
    expect(cases.length).toBeGreaterThan(20)
    for (const n of taken) expect(documented, n).toContain(n)
    const shown = sharebox(["mount", "--help"]).stdout
    for (const n of taken) expect(shown, n).toMatch(new RegExp(`(^\\s+|, )${n}\\b`, "m"))
    const sample: Record<string, string> = { N: "3", SECONDS: "60", SIZE: "20G", OOO: "022", "on|off": "on", "hidden|visible": "visible", DIR: "/g", NAME: "x", CMD: "true" }
    for (const item of page.values!.items) {
      for (const n of item.names) {
        const given = n === "x-*" ? "x-systemd.automount" : n === "comment" ? "comment=x" : item.value ? `${n}=${sample[item.value]}` : n
        const r = parseMountOptions([given])
        expect(typeof r === "string" ? r : "taken", given).toBe("taken")
      }
    }
  })

  it("says only what a person needs: no generic lines, exit codes and an example on every page", () => {
    const root = sharebox(["--help"])
    expect(root.code, root.stderr).toBe(0)
    expectPlainHelp(root.stdout, "--help")
    for (const c of PROGRAM.commands) expect(root.stdout, c.name).toMatch(new RegExp(`^  - ${c.name} +${c.summary}$`, "m"))
    for (const c of PROGRAM.commands) {
      const h = sharebox([c.name, "--help"])
      expectPlainHelp(h.stdout, `${c.name} --help`)
      expect(h.stdout, c.name).toMatch(/^Usage: sharebox /)
      expect(h.stdout, c.name).toMatch(/^Exit codes: 0, /m)
      expect(h.stdout, c.name).toMatch(/^Examples?:\n  \S/m)
      expect(c.exit.map((e) => e.code), c.name).toEqual(expect.arrayContaining([0, 64]))
      for (const e of c.exit) expect(h.stdout, `${c.name} exit ${e.code}`).toMatch(new RegExp(`^  ${e.code} +\\S`, "m"))
    }
  })

  it("sharebox, sharebox help, --help and -h show the same page; so do help COMMAND, COMMAND --help, COMMAND -h", () => {
    const root = sharebox(["--help"]).stdout
    for (const args of [[], ["help"], ["-h"], ["help", "help"]]) {
      const r = sharebox(args)
      expect(r.code, args.join(" ")).toBe(0)
      expect(r.stdout, args.join(" ")).toBe(root)
    }
    const sync = sharebox(["sync", "--help"]).stdout
    expect(sync).not.toBe(root)
    for (const args of [["help", "sync"], ["sync", "-h"], ["sync", "/some/mount", "--help"], ["--command", "sync", "--help"]]) {
      const r = sharebox(args)
      expect(r.code, args.join(" ")).toBe(0)
      expect(r.stdout, args.join(" ")).toBe(sync)
    }
    // the older mount form asks for mount's help
    expect(sharebox(["/some/mount", "-o", "gitdir=/g", "--help"]).stdout).toBe(sharebox(["help", "mount"]).stdout)
  })

  it("an unknown command is one line naming it, exit 64, and a misspelt one is told the nearest", () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "sharebox-help-"))
    try {
      const cases: ReadonlyArray<[ReadonlyArray<string>, string]> = [
        [["frobnicate"], "sharebox: unknown command 'frobnicate' (sharebox --help lists them)\n"],
        [["frobnicate", "--json", "x"], "sharebox: unknown command 'frobnicate' (sharebox --help lists them)\n"],
        [["help", "frobnicate"], "sharebox: unknown command 'frobnicate' (sharebox --help lists them)\n"],
        [["--command", "frobnicate", "x"], "sharebox: unknown command 'frobnicate' (sharebox --help lists them)\n"],
        [["syncc", "x"], "sharebox: unknown command 'syncc'; did you mean 'sync'? (sharebox --help lists them)\n"],
        [["staus"], "sharebox: unknown command 'staus'; did you mean 'status'? (sharebox --help lists them)\n"],
        [["\x1b[2Jx"], "sharebox: unknown command '\\x1b[2Jx' (sharebox --help lists them)\n"]
      ]
      for (const [args, line] of cases) {
        const r = sharebox(args, { cwd })
        expect([r.code, r.stdout, r.stderr], args.join(" ")).toEqual([64, "", line])
      }
      expect(fs.readdirSync(cwd)).toEqual([])
      // a word that can be a mount point is still read as the older mount form
      fs.mkdirSync(path.join(cwd, "mnt"))
      for (const args of [["mnt"], ["./nomnt"], ["nomnt", "-o", "name=x"]]) {
        const r = sharebox(args, { cwd })
        expect([r.code, r.stderr], args.join(" ")).toEqual([64, "sharebox: missing gitdir option: sharebox mount MOUNTPOINT -o gitdir=DIR\n"])
      }
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true })
    }
  })
})

describe("man sharebox", () => {
  const file = path.join(ROOT, "man", "sharebox.1")

  it("the checked-in man/sharebox.1 is what the help pages make now (npm run man)", () => {
    expect(fs.readFileSync(file, "utf8"), "man/sharebox.1 is not what src/cli/help/pages.ts makes: run npm run man").toBe(manPage(PROGRAM, VERSION))
  })

  it("package.json installs it as sharebox(1)", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"))
    expect(pkg.man).toEqual(["./man/sharebox.1"])
    expect(pkg.version).toBe(VERSION)
  })

  it("renders without a warning and has every section, command and option", () => {
    const groff = exec("groff", ["-man", "-Tutf8", "-ww", "-rLL=80n", file], { env: { LC_ALL: "C.UTF-8" } })
    if (groff.code === 127 || /ENOENT/.test(groff.stderr)) {
      console.log("groff is not installed: the man page's rendering is not checked, only its text")
      return
    }
    expect(groff.stderr).toBe("")
    expect(groff.code).toBe(0)
    // groff marks bold and underline by overstriking: plain text to compare
    const text = groff.stdout.replace(/.\x08/g, "").replace(/[\u2010\u2212]/g, "-")
    for (const s of ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO"]) {
      expect(text, s).toMatch(new RegExp(`^${s}$`, "m"))
    }
    const flat = text.replace(/\s+/g, " ")
    expect(flat).toContain(" sharebox - a distributed FUSE filesystem")
    expect(text, "no word is hyphenated at a line end").not.toMatch(/[a-z]-\n/)
    for (const c of PROGRAM.commands) {
      expect(text, c.name).toMatch(new RegExp(`^   ${c.name}$`, "m"))
      for (const o of [...c.options, ...(c.values?.items ?? [])]) for (const n of o.names) expect(flat, `${c.name} ${n}`).toContain(n)
      for (const e of c.examples) expect(flat, e.command).toContain(e.command.replace(/\s+/g, " "))
    }
    const man = exec("man", ["-l", file], { env: { MANWIDTH: "80", MAN_KEEP_FORMATTING: "", LC_ALL: "C.UTF-8" } })
    if (man.code === 127 || /ENOENT/.test(man.stderr)) console.log("man is not installed: groff's rendering was checked instead")
    else expect([man.code, man.stdout]).toEqual([0, expect.stringContaining("SHAREBOX(1)")])
  })
})
