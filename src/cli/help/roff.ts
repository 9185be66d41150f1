/**
 * The help pages (pages.ts) as one man page, sharebox(1), in roff with the man macros. `npm run
 * man` writes it to man/sharebox.1 (checked in, and installed by npm from package.json's "man");
 * a test checks the file is what this makes now.
 */
import type { ArgHelp, CommandHelp, ExampleHelp, ExitHelp, OptionHelp, ProgramHelp, ValueList } from "./types.js"
import { optionTerm } from "./text.js"

/** Text roff prints as it is: backslashes, minus signs (so that options copy and paste), a leading dot or quote. */
const esc = (s: string): string => s.replace(/\\/g, "\\e").replace(/-/g, "\\-").replace(/^([.'])/, "\\&$1")

/** A command line or a term: placeholders (DIR, PATH) in italics, what is typed as it is in bold, brackets plain. */
const styled = (s: string): string =>
  s.replace(/([A-Z][A-Z0-9_]*)|([a-z0-9_*=/~-][a-z0-9_*=./~-]*)|([^A-Za-z0-9_*=/~-]+)/g, (_, place: string, typed: string, plain: string) =>
    place ? `\\fI${esc(place)}\\fR` : typed ? `\\fB${esc(typed)}\\fR` : esc(plain)
  )

const paragraphs = (ps: ReadonlyArray<string>): Array<string> => ps.flatMap((p) => [".PP", esc(p)])

const tagged = (items: ReadonlyArray<readonly [string, string]>): Array<string> => items.flatMap(([term, text]) => [".TP", term, esc(text)])

const optionItems = (os: ReadonlyArray<OptionHelp>, joiner: " " | "=") => tagged(os.map((o) => [styled(optionTerm(o, joiner)), o.text]))
const argItems = (as: ReadonlyArray<ArgHelp>) => tagged(as.map((a) => [styled(a.name), a.text]))
const exitItems = (es: ReadonlyArray<ExitHelp>) => tagged(es.map((e) => [`.B ${e.code}`, e.text]))

const exampleItems = (es: ReadonlyArray<ExampleHelp>): Array<string> =>
  es.flatMap((e) => [".PP", ".RS 4", ".EX", esc(e.command), ".EE", ...(e.text ? [".RS 4", esc(e.text), ".RE"] : []), ".RE"])

/** A heading inside a command's section, with what follows indented under it. */
const block = (title: string, body: ReadonlyArray<string>): Array<string> => (body.length ? [".PP", `.I ${title}`, ".RS 4", ...body, ".RE"] : [])

const valueList = (v: ValueList | undefined): Array<string> =>
  v ? block(`${v.title} (\\-o)`, [esc(v.intro), ...optionItems(v.items, "="), ".PP", esc(v.outro)]) : []

const commandSection = (c: CommandHelp): Array<string> => [
  `.SS ${c.name}`,
  ...c.synopsis.flatMap((f, i) => [i ? ".br" : ".PP", `\\fBsharebox\\fR ${styled(f)}`]),
  ...paragraphs(c.description),
  ...block("Arguments", argItems(c.args)),
  ...block("Options", optionItems(c.options, " ")),
  ...valueList(c.values),
  ...block("Exit codes", exitItems(c.exit)),
  ...block(c.examples.length > 1 ? "Examples" : "Example", exampleItems(c.examples))
]

export const manPage = (p: ProgramHelp, version: string): string =>
  [
    `.\\" Made by scripts/man.mjs from src/cli/help/pages.ts; edit those, then run: npm run man`,
    `.TH SHAREBOX 1 "" "sharebox ${version}" "User Commands"`,
    // no hyphenation: a word broken at a line end would not copy as the name it is (git-annex,
    // ConnectTimeout); groff's man macros turn it back on at each paragraph unless HY is 0
    ".nh",
    ".nr HY 0",
    ".SH NAME",
    `sharebox \\- ${esc(p.summary)}`,
    ".SH SYNOPSIS",
    ...p.synopsis.flatMap((f, i) => [...(i ? [".br"] : []), `\\fBsharebox\\fR ${styled(f)}`]),
    ".SH DESCRIPTION",
    ...paragraphs(p.description),
    ".SH OPTIONS",
    ...optionItems(p.options, " "),
    ".SH COMMANDS",
    ...p.commands.flatMap(commandSection),
    ".SH EXIT STATUS",
    ...exitItems(p.exit),
    ".SH ENVIRONMENT",
    ...tagged(p.environment.map((e) => [`.B ${esc(e.name)}`, e.text])),
    ".SH FILES",
    ...argItems(p.files),
    ".SH EXAMPLES",
    ...exampleItems(p.examples),
    ".SH SEE ALSO",
    p.seeAlso.map((s) => `.BR ${esc(s.replace(/\((\d)\)$/, " ($1)"))}`).join(",\n")
  ].join("\n") + "\n"
