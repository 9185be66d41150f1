/**
 * Entry of the `sharebox` command. A plain mount (`sharebox MNT -o gitdir=DIR`, `sharebox mount
 * MNT -o ...`, or `sharebox GITDIR MNT -o ...` as mount.fuse runs it: a mountpoint, perhaps a
 * source, and `-o` values, nothing else) runs without loading the command-line parser, whose
 * modules take most of a start-up, and so does `--version`; every other command line goes to it
 * (main.ts).
 */
import { VERSION, plainMount, normaliseArgv } from "./argv.js"

const argv = process.argv.slice(2)
const m = plainMount(normaliseArgv(argv))
// (the parser's own --version would also print a blank line after the version)
if (argv.length === 1 && argv[0] === "--version") process.stdout.write(`${VERSION}\n`)
else if (m) {
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
