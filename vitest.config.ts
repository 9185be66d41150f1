import { availableParallelism } from "node:os"
import { defineConfig } from "vitest/config"

// Two test files at a time where there are two cores or more: most of an integration test's time
// is spent waiting on git, git-annex, a daemon or a bound (ssh's connect timeout, the stall bound),
// so a second file in parallel took the default run from 26 to 19 minutes on two cores (21 with
// other work on the machine), every test passing. Not more: the tests that time bounds (a
// black-holed peer, a stalled transfer, ls while a peer is away) keep their slack.
// SHAREBOX_TEST_WORKERS=1 runs one file at a time.
const workers = Number(process.env.SHAREBOX_TEST_WORKERS ?? Math.min(2, availableParallelism()))

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // integration tests drive real git, git-annex and FUSE
    testTimeout: 120_000,
    pool: "forks",
    maxWorkers: workers,
    minWorkers: 1
  }
})
