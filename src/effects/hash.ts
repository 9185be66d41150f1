import { createHash } from "node:crypto"
import { createReadStream } from "node:fs"
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
