/**
 * The ready-made crontab line and systemd unit run what they say: this runs exactly their commands
 * against two real hosts.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ROOT, World, eventually, exec, type HostDirs } from "./harness.js"

const PATH = `${path.join(ROOT, "bin")}:${process.env.PATH}`

describe("contrib: cron and systemd", () => {
  const w = new World("sharebox-contrib")
  let a: HostDirs
  let b: HostDirs
  let home: string

  beforeAll(() => {
    a = w.host("a")
    b = w.host("b")
    w.mount(a)
    w.mount(b)
    w.connectAll()
    home = path.join(w.root, "home")
    fs.mkdirSync(home)
    fs.symlinkSync(b.mnt, path.join(home, "Sharebox"))
  })

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  })

  it("the crontab line syncs the mount it names", async () => {
    const line = fs
      .readFileSync(path.join(ROOT, "contrib", "crontab"), "utf8")
      .split("\n")
      .find((l) => l.trim() && !l.startsWith("#"))!
    const command = line.trim().split(/\s+/).slice(5).join(" ")
    fs.writeFileSync(path.join(a.mnt, "from-a.txt"), "cron\n")
    const r = exec("sh", ["-c", command], { env: { HOME: home, PATH } })
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(await eventually(() => fs.existsSync(path.join(b.mnt, "from-a.txt")))).toBe(true)
    expect(fs.readFileSync(path.join(b.mnt, "from-a.txt"), "utf8")).toBe("cron\n")
  })

  it("the systemd service runs a sync of its instance path and treats 75 as success", () => {
    const unit = fs.readFileSync(path.join(ROOT, "contrib", "systemd", "sharebox-sync@.service"), "utf8")
    const execStart = /^ExecStart=(.*)$/m.exec(unit)![1]!
    const ok = (/^SuccessExitStatus=(.*)$/m.exec(unit)?.[1] ?? "").split(/\s+/).map(Number)
    fs.writeFileSync(path.join(b.mnt, "from-b.txt"), "timer\n")
    const r = exec("sh", ["-c", execStart.replace("%f", a.mnt)], { env: { PATH } })
    expect([0, ...ok]).toContain(r.code)
    expect(r.code).toBe(0)
    expect(fs.readFileSync(path.join(a.mnt, "from-b.txt"), "utf8")).toBe("timer\n")
    const timer = fs.readFileSync(path.join(ROOT, "contrib", "systemd", "sharebox-sync@.timer"), "utf8")
    expect(timer).toMatch(/OnUnitActiveSec=/)
  })
})
