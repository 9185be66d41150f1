/** The help pages (pages.ts) as a terminal shows them: plain text wrapped at 80 columns. */
import type { ArgHelp, CommandHelp, ExampleHelp, ExitHelp, OptionHelp, ProgramHelp, ValueList } from "./types.js"

const WIDTH = 80

/** `text` in lines of at most WIDTH columns, each after `indent` spaces (a longer word gets a line of its own). */
const wrap = (text: string, indent: number, first = indent): Array<string> => {
  const lines: Array<string> = []
  let line = ""
  let at = first
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && at + line.length + 1 + word.length > WIDTH) {
      lines.push(line)
      line = word
      at = indent
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(line)
  return lines.map((l, i) => " ".repeat(i === 0 ? first : indent) + l)
}

/** Terms and their meanings: the meaning beside a short term, below a long one, all at one column. */
const definitions = (items: ReadonlyArray<readonly [string, string]>, bullet = ""): Array<string> => {
  const short = items.map(([t]) => bullet.length + t.length).filter((n) => n <= 22)
  const column = short.length ? Math.max(...short) + 4 : 8
  return items.flatMap(([term, text]) => {
    const head = `  ${bullet}${term}`
    if (head.length > WIDTH) return [...wrap(term, 2), ...wrap(text, column)]
    if (!text) return [head]
    if (head.length + 2 <= column) {
      const [first, ...rest] = wrap(text, column, column)
      return [head + first!.slice(head.length), ...rest]
    }
    return [head, ...wrap(text, column)]
  })
}

export const optionTerm = (o: OptionHelp, joiner: " " | "="): string =>
  joiner === "=" && o.value ? o.names.map((n) => `${n}=${o.value}`).join(", ") : o.names.join(", ") + (o.value ? ` ${o.value}` : "")

const section = (title: string, body: ReadonlyArray<string>): Array<string> => (body.length ? ["", title, ...body] : [])

const args = (as: ReadonlyArray<ArgHelp>) => section("Arguments:", definitions(as.map((a) => [a.name, a.text])))
const options = (os: ReadonlyArray<OptionHelp>) => section("Options:", os.length ? definitions(os.map((o) => [optionTerm(o, " "), o.text])) : [])

const values = (v: ValueList | undefined) =>
  v ? section(`${v.title} (-o):`, [...wrap(v.intro, 2), "", ...definitions(v.items.map((o) => [optionTerm(o, "="), o.text])), "", ...wrap(v.outro, 2)]) : []

// "Exit codes: 0, 75, 1" first: the codes at a glance, then what each means
const exits = (es: ReadonlyArray<ExitHelp>) => ["", `Exit codes: ${es.map((e) => e.code).join(", ")}`, ...definitions(es.map((e) => [String(e.code), e.text]))]

const examples = (es: ReadonlyArray<ExampleHelp>) =>
  section(es.length > 1 ? "Examples:" : "Example:", es.flatMap((e) => [`  ${e.command}`, ...(e.text ? wrap(e.text, 6) : [])]))

const usage = (forms: ReadonlyArray<string>) => forms.map((f, i) => `${i === 0 ? "Usage: " : "       "}sharebox ${f}`)

/** `sharebox COMMAND --help`. */
export const commandText = (c: CommandHelp): string =>
  [
    ...usage(c.synopsis),
    "",
    ...c.description.flatMap((p, i) => [...(i ? [""] : []), ...wrap(p, 0)]),
    ...args(c.args),
    ...options(c.options),
    ...values(c.values),
    ...exits(c.exit),
    ...examples(c.examples)
  ].join("\n") + "\n"

/** `sharebox --help`: the program, its commands in a line each, and where to read more. */
export const programText = (p: ProgramHelp, version: string): string =>
  [
    `${p.name} ${version}: ${p.summary}`,
    "",
    ...usage(p.synopsis),
    "",
    ...p.description.flatMap((d, i) => [...(i ? [""] : []), ...wrap(d, 0)]),
    ...section("Commands:", definitions(p.commands.map((c) => [c.name, c.summary]), "- ")),
    ...options(p.options),
    ...exits(p.exit),
    ...examples(p.examples),
    "",
    ...wrap("sharebox help COMMAND (or sharebox COMMAND --help) shows a command's arguments and options; man sharebox shows every page.", 0)
  ].join("\n") + "\n"
