/**
 * Watches the gitdir's refs: when a peer pushes into `refs/heads/synced/`, the daemon merges it at
 * once, so the mount shows the change without waiting for the next sync here.
 */
import { watch } from "chokidar"
import * as path from "node:path"

export const watchPushes = (gitdir: string, onPush: () => void, debounceMs = 300): { close: () => Promise<void> } => {
  const heads = path.join(gitdir, ".git", "refs", "heads")
  const packed = path.join(gitdir, ".git", "packed-refs")
  let timer: NodeJS.Timeout | undefined
  const fire = (file: string) => {
    if (file !== packed && !file.startsWith(path.join(heads, "synced"))) return
    if (timer) clearTimeout(timer)
    timer = setTimeout(onPush, debounceMs)
  }
  const w = watch([heads, packed], { ignoreInitial: true, depth: 3, awaitWriteFinish: false })
  // addDir too: chokidar reads a new folder (the first push makes refs/heads/synced/) before it
  // watches it, so a ref written between the two is never reported; the folder's own event is
  w.on("add", fire).on("change", fire).on("addDir", fire)
  return {
    close: async () => {
      if (timer) clearTimeout(timer)
      await w.close()
    }
  }
}
