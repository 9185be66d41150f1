import { createHash, webcrypto } from "node:crypto"
import { createReadStream, readFile } from "node:fs"
import { sha256Key } from "../domain/key.js"

/** The SHA256E key of a file's content, with the extension taken from `name`. */
export const hashFile = (file: string, name: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const h = createHash("sha256")
    let size = 0
    createReadStream(file, { highWaterMark: 1 << 20 })
      .on("data", (d) => {
        size += d.length
        h.update(d as Buffer)
      })
      .on("error", reject)
      .on("end", () => resolve(sha256Key(h.digest("hex"), size, name)))
  })

/**
 * The same for a small file, off the JavaScript thread: one read of the whole file and one digest,
 * each on the thread pool (WebCrypto's digest is an asynchronous job there, like a read). A cold
 * read or a big hash waits there, not on the thread that answers FUSE requests.
 */
export const hashSmall = async (file: string, name: string): Promise<string> => {
  const data = await new Promise<Buffer>((resolve, reject) => readFile(file, (e, d) => (e ? reject(e) : resolve(d))))
  const digest = await webcrypto.subtle.digest("SHA-256", data)
  return sha256Key(Buffer.from(digest).toString("hex"), data.length, name)
}
