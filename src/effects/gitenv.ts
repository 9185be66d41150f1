/**
 * The environment of git processes. glibc gives the top of the heap back to the kernel whenever
 * 128 KiB of it is free; git deflates every object with a fresh zlib stream (a quarter of a MiB,
 * allocated and freed), so `fast-import` of 10,000 small blobs made 55,000 `brk` calls, each
 * freshly faulted page zeroed again: 1.7 s where 0.36 s does (docs/benchmarks.md). A higher trim
 * threshold keeps that memory in the process, which exits soon after. The caller's own
 * `GLIBC_TUNABLES` go after it, so a trim threshold set there wins.
 */
export const gitEnv = (base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => {
  const keep = "glibc.malloc.trim_threshold=67108864"
  return { ...base, GLIBC_TUNABLES: base.GLIBC_TUNABLES ? `${keep}:${base.GLIBC_TUNABLES}` : keep }
}
