/**
 * Tells a person about what needs them (a new conflict): runs `-o notifycmd=CMD` with the message as
 * its last argument, or `notify-send` when it is installed and no command was given.
 */
import { spawn, spawnSync } from "node:child_process"

export type Notify = (message: string) => Promise<void>

const hasNotifySend = (): boolean => spawnSync("sh", ["-c", "command -v notify-send"], { stdio: "ignore" }).status === 0

export const makeNotifier = (cmd: string | undefined, warn: (line: string) => void): Notify => {
  const command = cmd ?? (hasNotifySend() ? "notify-send sharebox" : undefined)
  if (!command) return async () => {}
  return (message) =>
    new Promise((resolve) => {
      const child = spawn("sh", ["-c", `${command} "$@"`, "sharebox", message], { stdio: "ignore" })
      child.on("error", (e) => {
        warn(`notifycmd: ${e.message}`)
        resolve()
      })
      child.on("close", (code) => {
        if (code !== 0) warn(`notifycmd exited ${code}`)
        resolve()
      })
    })
}
