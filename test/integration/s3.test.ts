/**
 * An S3 special remote, served on 127.0.0.1 by a real S3 server (s3rver, from npm), with shared
 * encryption and the credentials embedded: made on A, enabled by B's sync by itself, and serving
 * B's mount when no peer is online; the bucket holds no plaintext.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ROOT, type Run, exec, freePort, git, read, useWorld, write } from "./harness.js"

/**
 * s3rver in a process of its own (the test's own loop blocks while git-annex talks to it), which
 * says "listening" once it serves.
 */
const SERVE = `
const S3rver = require("s3rver")
const [port, dir] = process.argv.slice(1)
new S3rver({ port: Number(port), address: "127.0.0.1", directory: dir, silent: true, configureBuckets: [{ name: "sharebox" }] })
  .run().then(() => console.log("listening"), (e) => { console.error(String(e)); process.exit(1) })
`

const why = (() => {
  try {
    createRequire(import.meta.url).resolve("s3rver")
    return undefined
  } catch (e: unknown) {
    return `s3rver (a devDependency) cannot be loaded: ${(e as Error).message.split("\n")[0]}`
  }
})()
if (why) console.log(`S3 test skipped: ${why}`)

const serve = (port: number, dir: string): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", SERVE, String(port), dir], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] })
    let err = ""
    child.stderr!.on("data", (d) => (err += d))
    child.stdout!.on("data", (d) => String(d).includes("listening") && resolve(child))
    child.once("exit", (code) => reject(new Error(`s3rver exited ${code}: ${err}`)))
  })

const ok = (r: Run, what: string): Run => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}${r.stdout}`)
  return r
}

describe.skipIf(why !== undefined)("an S3 special remote on 127.0.0.1", () => {
  const w = useWorld("sharebox-s3")
  let server: ChildProcess | undefined

  afterAll(() => {
    server?.kill()
  })

  it("made on A with shared encryption, enabled by B's sync, serves B with A away; the bucket holds no plaintext", async () => {
    const data = path.join(w.root, "bucket-data")
    fs.mkdirSync(data)
    const port = await freePort("127.0.0.1")
    server = await serve(port, data)

    const [A, B] = w.pair()
    // git-annex refuses private addresses for special remotes unless a host allows them
    for (const h of [A, B]) ok(git(h.gitdir, ["config", "annex.security.allowed-ip-addresses", "127.0.0.1"]), "config")
    const secret = "a line only the file holds, never the bucket\n"
    write(path.join(A.mnt, "secret.txt"), secret)
    ok(w.sync(A), "sync A")
    const init = [
      "annex", "initremote", "bucket", "type=S3", "host=127.0.0.1", `port=${port}`, "protocol=http", "requeststyle=path",
      "bucket=sharebox", "signature=v4", "encryption=shared", "embedcreds=yes"
    ]
    // s3rver's own credentials, given to A alone
    ok(exec("git", ["-C", A.gitdir, ...init], { env: { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" } }), "initremote")
    ok(git(A.gitdir, ["annex", "copy", "--all", "--to", "bucket"]), "copy to the bucket")
    ok(w.sync(A), "sync A")

    // B has no credentials of its own: they came embedded, encrypted with the shared cipher
    const s = w.sync(B)
    expect(s.code, s.stderr).toBe(0)
    expect(s.stderr).toContain("enabled special remote bucket (S3)")

    const objects = (dir: string): Array<string> => fs.readdirSync(dir, { recursive: true }).map(String).map((p) => path.join(dir, p)).filter((p) => fs.statSync(p).isFile())
    expect(objects(data).length).toBeGreaterThan(0)
    for (const f of objects(data)) expect(fs.readFileSync(f).includes(Buffer.from("only the file holds")), f).toBe(false)

    await w.whileAway(A, () => expect(read(path.join(B.mnt, "secret.txt"))).toBe(secret))
  }, 180_000)
})
