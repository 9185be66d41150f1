/**
 * Which command lines take the plain-mount path (entry.ts), which starts without the full parser:
 * exactly a mountpoint (perhaps after a source, as mount.fuse runs it for an fstab line) and `-o`
 * values, with or without the mount verb; anything else is left to the parser, so its help, errors
 * and every other command behave as before.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { VERBS, normaliseArgv, parseMountOptions, plainMount } from "../../src/cli/argv.js"

const word = fc.stringMatching(/^[a-z0-9/._=,~]{1,12}$/).filter((w) => !(VERBS as ReadonlyArray<string>).includes(w))
const flag = fc.constantFrom("--help", "-h", "--version", "--wizard", "--json", "-v", "--", "--log-level")

describe("the plain mount form", () => {
  it("MNT -o V..., mount MNT -o V... and -oV all give the mountpoint and every value, in order", () => {
    fc.assert(
      fc.property(word, fc.array(word, { maxLength: 4 }), fc.boolean(), fc.boolean(), (mnt, values, verb, glued) => {
        const opts = values.flatMap((v) => (glued ? [`-o${v}`] : ["-o", v]))
        const argv = verb ? ["mount", mnt, ...opts] : [mnt, ...opts]
        expect(plainMount(normaliseArgv(argv))).toEqual({ mountpoint: mnt, o: values })
      })
    )
  })

  it("SOURCE MNT -o V... (how mount.fuse runs sharebox) gives the source too, before or after the -o values", () => {
    fc.assert(
      fc.property(word, word, fc.array(word, { maxLength: 4 }), fc.boolean(), fc.boolean(), (source, mnt, values, verb, optsFirst) => {
        const opts = values.flatMap((v) => ["-o", v])
        const args = optsFirst ? [...opts, source, mnt] : [source, mnt, ...opts]
        expect(plainMount(normaliseArgv(verb ? ["mount", ...args] : args))).toEqual({ source, mountpoint: mnt, o: values })
      })
    )
  })

  it("any other flag, a third positional argument, or another command goes to the parser", () => {
    fc.assert(
      fc.property(word, fc.array(word, { maxLength: 3 }), flag, fc.nat(), (mnt, values, f, at) => {
        const base = [mnt, ...values.flatMap((v) => ["-o", v])]
        // anywhere but right after -o, where it would be the option's value
        const places = [...Array(base.length + 1).keys()].filter((i) => base[i - 1] !== "-o")
        const i = places[at % places.length]!
        const withFlag = [...base.slice(0, i), f, ...base.slice(i)]
        expect(plainMount(normaliseArgv(withFlag))).toBeUndefined()
        expect(plainMount(normaliseArgv(["mount", mnt, "other", "third", ...base.slice(1)]))).toBeUndefined()
        for (const verb of VERBS.filter((v) => v !== "mount")) expect(plainMount(normaliseArgv([verb, mnt]))).toBeUndefined()
      })
    )
  })
})

describe("mount options", () => {
  const pairs: ReadonlyArray<[string, "noexec" | "sync", boolean]> = [
    ["noexec", "noexec", true],
    ["exec", "noexec", false],
    ["sync", "sync", true],
    ["async", "sync", false]
  ]
  const atimes: ReadonlyArray<[string, string]> = [
    ["noatime", "noatime"],
    ["atime", "relatime"],
    ["relatime", "relatime"],
    ["strictatime", "strict"]
  ]
  const forMount = fc.constantFrom("_netdev", "nofail", "auto", "noauto", "user", "users", "nouser", "defaults", "x-systemd.automount", "comment=x")

  it("of each pair of mount flags, and of the atime options, the last one given wins, as with mount(8)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...pairs), fc.constantFrom(...atimes)), { maxLength: 8 }), (given) => {
        const o = parseMountOptions(["gitdir=g", given.map(([w]) => w).join(",")])
        if (typeof o === "string") throw new Error(o)
        for (const flag of ["noexec", "sync"] as const) {
          const last = given.filter((g) => g.length === 3 && g[1] === flag).pop()
          expect(o.kernel[flag], flag).toBe(last ? last[2] : false)
        }
        const atime = given.filter((g) => g.length === 2).pop()
        expect(o.atime).toBe(atime ? atime[1] : "relatime")
      })
    )
  })

  it("options for mount(8) and systemd change nothing, wherever they come", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("ro", "noexec", "uid=7", "umask=022", "fsname=n", "getall"), { maxLength: 4 }), fc.array(forMount, { maxLength: 4 }), fc.nat(), (own, theirs, at) => {
        const i = at % (own.length + 1)
        expect(parseMountOptions(["gitdir=g", ...own.slice(0, i), ...theirs, ...own.slice(i)])).toEqual(parseMountOptions(["gitdir=g", ...own]))
      })
    )
  })
})
