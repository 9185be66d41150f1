/**
 * A readdir answered with each name's file type (a Uint32Array beside the names, index.d.ts's
 * Listed): the kernel gives it to getdents as d_type, so `find -type f` learns what each name is
 * from the listing and looks up none of the files; without it, every name is looked up (a getattr
 * in JavaScript each). A type array of another kind or length lists the names with no type.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, expect, it } from "vitest"
import { TestFs, run } from "./harness.js"

const t = new TestFs("readdir")
const S_IFMT = 0o170000

/** Each name's type from the backing folder (lstat). */
const typesFromDisk = (names: ReadonlyArray<string>, dir: string): Uint32Array => Uint32Array.from(names, (n) => fs.lstatSync(path.join(dir, n)).mode & S_IFMT)

beforeAll(async () => {
  for (const d of ["typed", "untyped", "short", "int32"]) {
    t.put(`${d}/a.txt`, "a")
    t.put(`${d}/b.txt`, "b")
    t.put(`${d}/sub/c.txt`, "c")
    fs.symlinkSync("a.txt", t.real(`${d}/link`))
  }
  t.listTypes = (names, dir) => {
    const d = path.relative(t.backing, dir).split(path.sep)[0]
    if (d === "typed") return typesFromDisk(names, dir)
    if (d === "short") return typesFromDisk(names, dir).subarray(1)
    if (d === "int32") return new Int32Array(typesFromDisk(names, dir)) as unknown as Uint32Array
    return undefined
  }
  await t.mount()
})
afterAll(() => t.close())

/** `find DIR -type f` through the mount: the files it names, relative to DIR. */
const findFiles = async (d: string): Promise<Array<string>> =>
  (await run("find", [t.at(d), "-type", "f"]))
    .split("\n")
    .filter(Boolean)
    .map((f) => path.relative(t.at(d), f))
    .sort()

/** getattrs (lookups) the handlers saw of the files and the link in `d` */
const lookups = (d: string) => ["a.txt", "b.txt", "link", "sub/c.txt"].map((n) => t.count("getattr", `/${d}/${n}`)).reduce((a, b) => a + b, 0)

it("with the types, find -type f names the files and looks none of them up", async () => {
  expect(await findFiles("typed")).toEqual(["a.txt", "b.txt", "sub/c.txt"])
  expect(lookups("typed")).toBe(0)
  // the types are d_type as Python's scandir reads it, without a stat
  const seen = JSON.parse(await run("python3", ["-c", "import json, os, sys; print(json.dumps(sorted([e.name, e.is_dir(follow_symlinks=False), e.is_symlink()] for e in os.scandir(sys.argv[1]))))", t.at("typed")]))
  expect(seen).toEqual([["a.txt", false, false], ["b.txt", false, false], ["link", false, true], ["sub", true, false]])
  expect(lookups("typed")).toBe(0)
})

it("without them, every name is looked up, and find names the same files", async () => {
  expect(await findFiles("untyped")).toEqual(["a.txt", "b.txt", "sub/c.txt"])
  expect(lookups("untyped")).toBeGreaterThanOrEqual(3)
})

it("a type array of another length or kind lists every name, with no type", async () => {
  for (const d of ["short", "int32"]) {
    expect((await fs.promises.readdir(t.at(d))).sort(), d).toEqual(["a.txt", "b.txt", "link", "sub"])
    expect(await findFiles(d), d).toEqual(["a.txt", "b.txt", "sub/c.txt"])
    expect(lookups(d), d).toBeGreaterThanOrEqual(3)
  }
})
