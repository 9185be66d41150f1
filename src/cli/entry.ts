/**
 * Entry of the `sharebox` command. A plain mount (`sharebox MNT -o gitdir=DIR`, `sharebox mount
 * MNT -o ...`, or `sharebox GITDIR MNT -o ...` as mount.fuse runs it: a mountpoint, perhaps a
 * source, and `-o` values, nothing else) runs without loading the command-line parser, whose
 * modules take most of a start-up, and so do `--version`, help (help/pages.ts, not the parser's)
 * and an unknown command; every other command line goes to the parser (main.ts).
 */
import { existsSync } from "node:fs"
import { VERSION, plainMount, normaliseArgv } from "./argv.js"
import { helpRequest, unknownLine } from "./help/request.js"

const argv = process.argv.slice(2)
const help = helpRequest(argv, existsSync)
const m = help ? undefined : plainMount(normaliseArgv(argv))
// (the parser's own --version would also print a blank line after the version)
if (argv.length === 1 && argv[0] === "--version") process.stdout.write(`${VERSION}\n`)
else if (help?._tag === "Unknown") {
  const { printable } = await import("../domain/printable.js")
  process.stderr.write(`sharebox: ${unknownLine(help, printable)}\n`)
  process.exitCode = 64
} else if (help) {
  const [{ PROGRAM, pageOf }, { commandText, programText }] = await Promise.all([import("./help/pages.js"), import("./help/text.js")])
  const page = help.command === undefined ? undefined : pageOf(help.command)
  process.stdout.write(page ? commandText(page) : programText(PROGRAM, VERSION))
} else if (m) {
  const [{ mount }, { exitCodeOf, userMessage }] = await Promise.all([import("./mount.js"), import("../effects/errors.js")])
  try {
    await mount(m.mountpoint, m.o, m.source)
  } catch (e) {
    process.stderr.write(`sharebox: ${userMessage(e)}\n`)
    process.exitCode = exitCodeOf(e)
  }
} else {
  await import("./main.js")
}
