/**
 * Names, descriptions and reasons from peers go to terminals and logs. A control character there
 * is a terminal command (ESC starts one), a newline forges a line, and the bidirectional overrides
 * make text read in another order: each is shown as an escape instead.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const ANY_UNSAFE = new RegExp(UNSAFE.source)

const escapeOne = (c: string): string => {
  if (c === "\n") return "\\n"
  if (c === "\t") return "\\t"
  if (c === "\r") return "\\r"
  const code = c.charCodeAt(0)
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`
}

/** `s` with every character that could act on a terminal shown as an escape. */
export const printable = (s: string): string => (ANY_UNSAFE.test(s) ? s.replace(UNSAFE, escapeOne) : s)
