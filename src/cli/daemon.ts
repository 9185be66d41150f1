/**
 * Entry of the detached daemon process that `sharebox mount` starts: `node daemon.js __daemon
 * CONFIG-JSON` (the marker lets `ps` and the tests tell a daemon from a command). It tells its
 * parent over IPC whether the mount is ready, then lives until it is unmounted.
 */
import { type DaemonConfig, runDaemon } from "../fuse/mount.js"

const daemonMain = async (marker: string | undefined, json: string | undefined): Promise<void> => {
  let cfg: DaemonConfig
  try {
    if (marker !== "__daemon") throw new Error()
    cfg = JSON.parse(json ?? "") as DaemonConfig
  } catch {
    process.stderr.write("sharebox daemon: expected its configuration as one JSON argument; start it with sharebox mount\n")
    process.exit(64)
  }
  await runDaemon(cfg, (err) => {
    if (err) {
      process.stderr.write(`${new Date().toISOString()} sharebox: ${err}\n`)
      process.send?.({ error: err })
      setTimeout(() => process.exit(1), 100)
      return
    }
    process.send?.({ ready: true })
    process.disconnect?.()
  })
}

daemonMain(process.argv[2], process.argv[3]).catch((e) => {
  process.stderr.write(`${new Date().toISOString()} sharebox: ${e?.message ?? e}\n`)
  process.send?.({ error: String(e?.message ?? e) })
  setTimeout(() => process.exit(1), 100)
})
