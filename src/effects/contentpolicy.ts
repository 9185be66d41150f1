/**
 * Where data lives, as a service: the role content.ts works on (the view, presence, history) drawn
 * from their owners, and the policy a sync and a mount end with (pins, getall, retention, cache size).
 */
import { Context, Effect, Layer } from "effect"
import { type ContentHost, contentPolicy } from "./content.js"
import { HostConfig, Repo } from "./hostconfig.js"
import { Presence } from "./presence.js"
import { Versions } from "./versions.js"
import { ViewStore } from "./viewstore.js"

export interface ContentPolicyShape {
  /** what content.ts's get, drop, pin and whereis work on */
  readonly host: ContentHost
  /**
   * Fetches pinned (and with getall, all) content, lets old versions go, trims the cache; whether
   * all the wanted content is here
   */
  run(progress: (line: string) => void): Promise<boolean>
}

export class ContentPolicy extends Context.Tag("sharebox/ContentPolicy")<ContentPolicy, ContentPolicyShape>() {
  static layer = Layer.effect(
    ContentPolicy,
    Effect.gen(function* () {
      const { opts } = yield* HostConfig
      const repo = yield* Repo
      const views = yield* ViewStore
      const presence = yield* Presence
      const versions = yield* Versions
      const host: ContentHost = {
        layout: repo.layout,
        annex: repo.annex,
        git: repo.git,
        opts,
        get view() {
          return views.view
        },
        get head() {
          return views.head
        },
        isPresent: (key) => presence.isPresent(key),
        forgetPresent: (key) => presence.forgetPresent(key),
        history: () => versions.history(),
        lastReads: () => presence.lastReads()
      }
      return { host, run: (progress) => contentPolicy(host, progress) }
    })
  )
}
