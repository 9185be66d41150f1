/**
 * The control socket's protocol: every request survives the wire, and whatever else arrives on the
 * socket (any JSON value, a request missing a field, of another protocol, with an unknown tag,
 * not JSON at all) is refused with one short line that says why, never an exception.
 */
import * as Arbitrary from "effect/Arbitrary"
import * as Either from "effect/Either"
// effect's own fast-check (3.x, not the project's 4.x): the one its Arbitrary builds requests with
import * as fc from "effect/FastCheck"
import * as Schema from "effect/Schema"
import { describe, expect, it } from "vitest"
import { type Handlers, dispatch } from "../../src/effects/handlers.js"
import { PROTOCOL, Request, answer, parseAnswer, parseRequest, requestLine } from "../../src/effects/protocol.js"

const request = Arbitrary.make(Request)
const TAGS = ["ping", "sync", "replay", "status", "log", "whereis", "get", "drop", "pin", "unpin", "versions", "restore", "revert", "conflicts", "resolve"]

/** The refusal of a line: a short message on one line (parseRequest must not throw to get here). */
const refusalOf = (line: string): string => {
  const r = parseRequest(line)
  if (Either.isRight(r)) throw new Error(`accepted: ${line}`)
  expect(r.left.message).toMatch(/^[^\n]{10,500}$/)
  return r.left.message
}

/** A request as it goes on the wire, as a plain object to tamper with. */
const wire = (req: Request): Record<string, unknown> => JSON.parse(requestLine(req))

describe("requests on the wire", () => {
  it("every request encodes and decodes to itself", () => {
    fc.assert(
      fc.property(request, (req) => {
        const line = requestLine(req)
        expect(line.endsWith("\n")).toBe(true)
        expect(line.slice(0, -1)).not.toContain("\n")
        expect(parseRequest(line.slice(0, -1))).toEqual(Either.right(req))
      })
    )
  })

  it("any JSON value that is not a request is refused with a clear message", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const line = JSON.stringify(v)
        const r = parseRequest(line)
        // a value that happens to be a request is one
        if (Either.isRight(r)) expect(Schema.is(Request)(r.right)).toBe(true)
        else {
          expect(r.left.message).toMatch(/^(not a request|the daemon speaks protocol|unknown request|a request without _tag|bad [a-z]+ request)/)
          refusalOf(line)
        }
      })
    )
  })

  it("any line at all is refused or read, never thrown on", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (line) => {
        expect(() => parseRequest(line)).not.toThrow()
      })
    )
    expect(refusalOf("garbage")).toBe("not a request: not JSON")
    expect(refusalOf("[1,2]")).toMatch(/is not a JSON object/)
  })

  it("a request of another protocol is refused, naming both versions", () => {
    fc.assert(
      fc.property(request, fc.jsonValue().filter((v) => v !== PROTOCOL), (req, v) => {
        const line = JSON.stringify({ ...wire(req), v })
        expect(refusalOf(line)).toMatch(new RegExp(`^the daemon speaks protocol ${PROTOCOL}; this sharebox speaks .+: restart the mount$`))
        expect(parseRequest(line)).toMatchObject({ left: { legacy: false } })
      })
    )
  })

  it("an old request ({cmd, args}, no version) is refused as protocol 1, in the form its sharebox shows", () => {
    fc.assert(
      fc.property(fc.constantFrom(...TAGS), fc.dictionary(fc.string(), fc.jsonValue()), (cmd, args) => {
        const line = JSON.stringify({ cmd, args })
        expect(refusalOf(line)).toBe(`the daemon speaks protocol ${PROTOCOL}; this sharebox speaks 1: restart the mount`)
        expect(parseRequest(line)).toMatchObject({ left: { legacy: true } })
      })
    )
  })

  it("an unknown tag is refused by name", () => {
    fc.assert(
      fc.property(request, fc.string().filter((t) => !TAGS.includes(t)), (req, tag) => {
        expect(refusalOf(JSON.stringify({ ...wire(req), _tag: tag }))).toMatch(/^unknown request ".*\(known: ping, sync, /)
      })
    )
    expect(refusalOf(JSON.stringify({ v: PROTOCOL }))).toMatch(/^a request without _tag \(known: /)
    expect(refusalOf(JSON.stringify({ v: PROTOCOL, _tag: "constructor" }))).toMatch(/^unknown request "constructor"/)
  })

  it("a missing or mistyped field is refused, naming the request and the field", () => {
    const withFields = request.filter((r) => Object.keys(r).length > 1)
    fc.assert(
      fc.property(withFields, fc.nat(), fc.option(fc.jsonValue(), { nil: undefined }), (req, i, value) => {
        const fields = Object.keys(req).filter((k) => k !== "_tag")
        const field = fields[i % fields.length]!
        const tampered = { ...wire(req), [field]: value }
        const r = parseRequest(JSON.stringify(tampered))
        // a value of the right type, or an optional field left out, is still a request
        if (Either.isRight(r)) expect(Schema.is(Request)(r.right)).toBe(true)
        else expect(r.left.message).toMatch(new RegExp(`^bad ${req._tag} request: ${field}(\\.\\d+)?: `))
      })
    )
    expect(refusalOf(JSON.stringify({ v: PROTOCOL, _tag: "resolve", keep: "mine" }))).toBe("bad resolve request: keep: must be winner, copy or both")
    expect(refusalOf(JSON.stringify({ v: PROTOCOL, _tag: "whereis", paths: ["a", 3] }))).toBe("bad whereis request: paths.1: Expected string, actual 3")
  })
})

describe("answers on the wire", () => {
  const pid = { pid: 42, mountpoint: "/mnt" }
  const handlers = {
    ping: async () => ({ code: 0, result: pid }),
    versions: async (req: { path: string }) => {
      throw Object.assign(new Error(`${req.path}: no history`), { exitCode: 66 })
    },
    get: async (_: unknown, out: (line: string) => void) => {
      out("fetching")
      return { code: 1, result: undefined }
    }
    // only these are asked here
  } as unknown as Handlers
  const answered = async (line: string): Promise<Array<string>> => {
    const lines: Array<string> = []
    await answer((req, out) => dispatch(handlers, req, out), line, (l) => lines.push(l))
    return lines.join("").split("\n").filter(Boolean)
  }

  it("what the daemon answers, the command reads back as the request's result", async () => {
    expect((await answered(requestLine({ _tag: "ping" }))).map((l) => parseAnswer("ping", l))).toEqual([{ code: 0, result: pid }])
    expect((await answered(requestLine({ _tag: "get", paths: ["a"] }))).map((l) => parseAnswer("get", l))).toEqual([{ out: "fetching" }, { code: 1, result: undefined }])
    expect((await answered(requestLine({ _tag: "versions", path: "a" }))).map((l) => parseAnswer("versions", l))).toEqual([{ code: 66, error: "a: no history" }])
  })

  it("a refusal is one line with exit code 64; to a sharebox of protocol 1, an output line and the code", async () => {
    expect((await answered('{"v":3,"_tag":"nope"}')).map((l) => JSON.parse(l))).toEqual([{ done: 64, v: 3, error: expect.stringMatching(/^unknown request "nope"/) }])
    expect((await answered('{"cmd":"status"}')).map((l) => JSON.parse(l))).toEqual([
      { out: "the daemon speaks protocol 3; this sharebox speaks 1: restart the mount" },
      { done: 64 }
    ])
  })

  it("an answer of another protocol, or one the command would misread, ends the request with a clear error", () => {
    // what a daemon of protocol 1 answers every request of this one
    expect(parseAnswer("status", '{"done":64,"result":"unknown request undefined"}')).toEqual({
      code: 64,
      error: `the daemon speaks protocol 1; this sharebox speaks ${PROTOCOL}: restart the mount`
    })
    expect(parseAnswer("ping", '{"done":0,"v":3,"result":{"pid":"x","mountpoint":"/m"}}')).toMatchObject({ code: 76, error: expect.stringMatching(/ping result .*pid: Expected number/) })
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), fc.constantFrom(...TAGS), (line, tag) => {
        const a = parseAnswer(tag as Request["_tag"], line)
        if ("error" in a) expect(a.error).toMatch(/^[^\n]+$/)
      })
    )
  })
})
