/**
 * The daemon's control channel: a unix socket (0600) named in the gitdir's state folder. One JSON
 * request per connection; the answer is JSON lines of output and a last line with the exit code.
 */
import { promises as fs } from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { UsageError } from "./errors.js"
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

/**
 * What is wrong with the folder of a socket outside the gitdir's state folder (the shared
 * `$TMPDIR/sharebox-UID`, for gitdirs whose own socket path is too long), or undefined. Whoever can
 * create or write that folder can put their own socket in ours' place and answer the command line
 * (another user who made the folder first owns it, even after we chmod it). The state folder is
 * trusted as the gitdir is.
 */
const socketFolderProblem = async (gitdir: string, sock: string): Promise<string | undefined> => {
  const dir = path.dirname(sock)
  if (dir === layoutOf(gitdir).state) return undefined
  const st = await fs.lstat(dir).catch(() => undefined)
  const uid = process.getuid?.() ?? 0
  // none: no daemon listens there (one that crashed may have named it)
  const problem = !st
    ? undefined
    : st.isSymbolicLink()
      ? "is a symbolic link"
      : !st.isDirectory()
        ? "is not a directory"
        : st.uid !== uid
          ? `belongs to uid ${st.uid}, not to this user (uid ${uid})`
          : st.mode & 0o077
            ? `has mode ${(st.mode & 0o777).toString(8)}, so other users may replace the socket in it`
            : undefined
  return problem && `socket folder ${dir} ${problem}; it must be a folder of this user's with mode 0700 (remove it, and sharebox makes it so)`
}

export const checkSocketFolder = async (gitdir: string, sock: string): Promise<void> => {
  const problem = await socketFolderProblem(gitdir, sock)
  if (problem) throw new UsageError({ message: problem, exitCode: 1 })
}

/** Makes the socket's folder (private) when it is missing; refuses one others could tamper with. */
export const prepareSocketFolder = async (gitdir: string): Promise<void> => {
  const sock = layoutOf(gitdir).preferredSocket
  await fs.mkdir(path.dirname(sock), { recursive: true, mode: 0o700 })
  await checkSocketFolder(gitdir, sock)
}

export const serve = async (gitdir: string, handler: Handler): Promise<{ close: () => Promise<void> }> => {
  const layout = layoutOf(gitdir)
  const sock = layout.preferredSocket
  await prepareSocketFolder(gitdir)
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
 * `out` as they come. Refuses (UsageError) a socket in a folder others could tamper with.
 */
export const askDaemon = async (
  gitdir: string,
  req: Request,
  timeoutSeconds: number,
  out: (line: string) => void = () => {}
): Promise<{ code: number; result?: unknown } | undefined> => {
  const sock = await socketPathOf(gitdir)
  if (!sock) return undefined
  await checkSocketFolder(gitdir, sock)
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
