import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // integration tests drive real git, git-annex and FUSE
    testTimeout: 120_000,
    pool: "forks"
  }
})
