/**
 * The daemon's control channel: a unix socket (0600) named in the gitdir's state folder. One JSON
 * request per connection; the answer is JSON lines of output and a last line with the exit code.
 */
import { promises as fs } from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { layoutOf } from "./layout.js"

export interface Request {
  readonly cmd: string
  readonly args?: Record<string, unknown>
}

export type Answer = { readonly out: string } | { readonly done: number; readonly result?: unknown }

export type Handler = (req: Request, out: (line: string) => void) => Promise<{ code: number; result?: unknown }>

export const socketPathOf = async (gitdir: string): Promise<string | undefined> => {
  try {
    return (await fs.readFile(layoutOf(gitdir).socketRef, "utf8")).trim() || undefined
  } catch {
    return undefined
  }
}

export const serve = async (gitdir: string, handler: Handler): Promise<{ close: () => Promise<void> }> => {
  const layout = layoutOf(gitdir)
  const sock = layout.preferredSocket
  await fs.mkdir(path.dirname(sock), { recursive: true, mode: 0o700 })
  await fs.rm(sock, { force: true })
  const server = net.createServer((conn) => {
    let buf = ""
    conn.on("error", () => {})
    conn.on("data", (d) => {
      buf += d.toString("utf8")
      const nl = buf.indexOf("\n")
      if (nl < 0) return
      const line = buf.slice(0, nl)
      buf = ""
      let req: Request
      try {
        req = JSON.parse(line)
      } catch {
        conn.end(JSON.stringify({ done: 64, result: "bad request" }) + "\n")
        return
      }
      const send = (a: Answer) => {
        if (!conn.destroyed) conn.write(JSON.stringify(a) + "\n")
      }
      handler(req, (out) => send({ out }))
        .then(({ code, result }) => {
          send({ done: code, result })
          conn.end()
        })
        .catch((e) => {
          send({ done: typeof e?.exitCode === "number" ? e.exitCode : 1, result: String(e?.message ?? e) })
          conn.end()
        })
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(sock, () => resolve())
  })
  await fs.chmod(sock, 0o600)
  await fs.writeFile(layout.socketRef, sock + "\n", { mode: 0o600 })
  return {
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()))
      await fs.rm(sock, { force: true })
      await fs.rm(layout.socketRef, { force: true })
    }
  }
}

/**
 * Sends a request to the daemon serving `gitdir`; undefined when none answers. Output lines go to
 * `out` as they come.
 */
export const askDaemon = async (
  gitdir: string,
  req: Request,
  timeoutSeconds: number,
  out: (line: string) => void = () => {}
): Promise<{ code: number; result?: unknown } | undefined> => {
  const sock = await socketPathOf(gitdir)
  if (!sock) return undefined
  return new Promise((resolve) => {
    const conn = net.createConnection(sock)
    let buf = ""
    let settled = false
    const finish = (v: { code: number; result?: unknown } | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      conn.destroy()
      resolve(v)
    }
    const timer = setTimeout(() => finish(undefined), timeoutSeconds * 1000)
    conn.on("connect", () => conn.write(JSON.stringify(req) + "\n"))
    conn.on("error", () => finish(undefined))
    conn.on("close", () => finish(undefined))
    conn.on("data", (d) => {
      buf += d.toString("utf8")
      let nl: number
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        try {
          const a = JSON.parse(line) as Answer
          if ("out" in a) out(a.out)
          else finish({ code: a.done, result: a.result })
        } catch {}
      }
    })
  })
}
