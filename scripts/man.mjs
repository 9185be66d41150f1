// Writes man/sharebox.1 from the help pages (src/cli/help/pages.ts, through dist/ that tsc wrote):
// `npm run man`. The file is checked in, so that npm installs it; test/integration/help.test.ts
// checks it is what this makes now.
import { mkdirSync, writeFileSync } from "node:fs"
import { VERSION } from "../dist/cli/argv.js"
import { PROGRAM } from "../dist/cli/help/pages.js"
import { manPage } from "../dist/cli/help/roff.js"

mkdirSync("man", { recursive: true })
writeFileSync("man/sharebox.1", manPage(PROGRAM, VERSION))
