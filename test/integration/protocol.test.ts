/**
 * The daemon's control socket, spoken to raw: a request it does not know, or of another protocol
 * version (a sharebox older or newer than the mount's), gets one clear line and exit code 64, and
 * the daemon goes on serving.
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, sharebox, write } from "./harness.js"

/** Sends one line on the socket; the JSON values of the answer's lines. */
const ask = (sock: string, line: string): Promise<Array<Record<string, unknown>>> =>
  new Promise((resolve, reject) => {
    const conn = net.createConnection(sock)
    let text = ""
    const timer = setTimeout(() => {
      conn.destroy()
      reject(new Error(`no answer to ${line} in 10 s: ${JSON.stringify(text)}`))
    }, 10_000)
    conn.on("connect", () => conn.write(`${line}\n`))
    conn.on("data", (d) => (text += d))
    conn.on("error", reject)
    conn.on("close", () => {
      clearTimeout(timer)
      resolve(text.split("\n").filter(Boolean).map((l) => JSON.parse(l)))
    })
  })

describe("the control socket's protocol", () => {
  const w = new World("sharebox-protocol")
  let A: HostDirs
  let sock: string

  beforeAll(() => {
    A = w.host("A")
    w.mount(A)
    write(path.join(A.mnt, "a.txt"), "alpha\n")
    // in history, so whereis knows it, whenever the write-back would have come
    expect(sharebox(["replay", A.mnt]).code).toBe(0)
    sock = fs.readFileSync(path.join(A.gitdir, ".git", "sharebox", "socket"), "utf8").trim()
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  /** The daemon still answers, raw and to the command. */
  const stillServing = async () => {
    expect(await ask(sock, JSON.stringify({ v: 3, _tag: "ping" }))).toEqual([{ done: 0, v: 3, result: { pid: expect.any(Number), mountpoint: A.mnt } }])
    const r = sharebox(["status", "--json", A.mnt])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).mountpoint).toBe(A.mnt)
  }

  it("a request with an unknown tag gets exit code 64 and a line naming it", async () => {
    const answer = await ask(sock, JSON.stringify({ v: 3, _tag: "frobnicate", paths: ["a.txt"] }))
    expect(answer).toEqual([{ done: 64, v: 3, error: expect.stringMatching(/^unknown request "frobnicate" \(known: ping, sync, .*\)$/) }])
    await stillServing()
  })

  it("a request of another protocol version gets exit code 64 and a line naming both", async () => {
    const answer = await ask(sock, JSON.stringify({ v: 4, _tag: "status" }))
    expect(answer).toEqual([{ done: 64, v: 3, error: "the daemon speaks protocol 3; this sharebox speaks 4: restart the mount" }])
    await stillServing()
  })

  it("a request of protocol 1 ({cmd, args}) gets the line as output, which its sharebox shows, and exit code 64", async () => {
    const answer = await ask(sock, JSON.stringify({ cmd: "whereis", args: { paths: ["a.txt"] } }))
    expect(answer).toEqual([{ out: "the daemon speaks protocol 3; this sharebox speaks 1: restart the mount" }, { done: 64 }])
    await stillServing()
  })

  it("a request missing a field, or not JSON, gets exit code 64 and a line saying what is wrong", async () => {
    expect(await ask(sock, JSON.stringify({ v: 3, _tag: "versions" }))).toEqual([{ done: 64, v: 3, error: "bad versions request: path: is missing" }])
    expect(await ask(sock, "{not json")).toEqual([{ done: 64, v: 3, error: "not a request: not JSON" }])
    await stillServing()
  })

  it("a request the daemon knows is answered with its result", async () => {
    const answer = await ask(sock, JSON.stringify({ v: 3, _tag: "whereis", paths: ["a.txt"] }))
    expect(answer).toEqual([{ done: 0, v: 3, result: [expect.objectContaining({ path: "a.txt", here: true })] }])
  })
})
