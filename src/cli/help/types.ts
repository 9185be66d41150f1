/**
 * The help of the `sharebox` command as data: one page per command, from which both the terminal
 * help (text.ts) and the man page (roff.ts, `npm run man`) are made. Text is plain: no markup, no
 * line breaks inside a paragraph; each renderer wraps and marks up on its own.
 */

/** An option: its spellings, the value it takes (a placeholder such as `ID`), what it does. */
export interface OptionHelp {
  readonly names: ReadonlyArray<string>
  readonly value?: string
  readonly text: string
}

/** A positional argument, by its placeholder (`PATH`, `MOUNTPOINT|GITDIR`). */
export interface ArgHelp {
  readonly name: string
  readonly text: string
}

export interface ExitHelp {
  readonly code: number
  readonly text: string
}

export interface ExampleHelp {
  readonly command: string
  readonly text: string
}

/** A list of values one option takes, each with its meaning (mount's `-o`). */
export interface ValueList {
  readonly title: string
  readonly intro: string
  readonly items: ReadonlyArray<OptionHelp>
  readonly outro: string
}

export interface CommandHelp {
  readonly name: string
  /** each form of the command line, after `sharebox ` */
  readonly synopsis: ReadonlyArray<string>
  /** one line, lower case, no full stop: the command list and the man page's NAME */
  readonly summary: string
  readonly description: ReadonlyArray<string>
  readonly args: ReadonlyArray<ArgHelp>
  readonly options: ReadonlyArray<OptionHelp>
  readonly values?: ValueList
  readonly exit: ReadonlyArray<ExitHelp>
  readonly examples: ReadonlyArray<ExampleHelp>
}

/** The page of `sharebox` itself: the program, its commands, and what they all share. */
export interface ProgramHelp {
  readonly name: string
  readonly summary: string
  readonly synopsis: ReadonlyArray<string>
  readonly description: ReadonlyArray<string>
  readonly options: ReadonlyArray<OptionHelp>
  readonly commands: ReadonlyArray<CommandHelp>
  readonly exit: ReadonlyArray<ExitHelp>
  readonly environment: ReadonlyArray<ArgHelp>
  readonly files: ReadonlyArray<ArgHelp>
  readonly examples: ReadonlyArray<ExampleHelp>
  readonly seeAlso: ReadonlyArray<string>
}
