// How long a playlist's grant must last. A player keeps a VOD playlist, and the URLs in it, for
// the whole viewing (pauses and seeks included), and never asks for it again: the signed query
// must outlive the stream. The cookie grant's ttl/refreshBefore are sized for pages that call
// back; a playlist cannot.

/** A rule's lifetime, in seconds. */
export interface Lifetime {
  ttl: number
  refreshBefore: number
}

/** How playlist grants are stretched: both in seconds. */
export interface PlaylistLifetimeSettings {
  /** Added to the playlist's duration (start-up, stalls, a pause). */
  margin: number
  /** No playlist grant is stretched beyond this. */
  maxTtl: number
}

const STEP = 60

/**
 * The lifetime of a grant for a playlist of `duration` seconds under a rule. With
 * `need = duration + margin`: the ttl is at least the rule's and at least `2 × need` (rounded up to
 * whole minutes, so the variants of one stream share one set), at most `maxTtl` unless the rule's
 * own ttl is longer; refreshBefore is at least `need` (at most half the ttl). Every set served for
 * the playlist then has more than `need` left, and one set is reused for at least `need`.
 * A short playlist keeps the rule's ttl, so it shares the set the cookie grant uses.
 */
export function playlistLifetime (rule: Lifetime, duration: number, settings: PlaylistLifetimeSettings): Lifetime {
  const need = Math.ceil(duration) + settings.margin
  let ttl = rule.ttl
  if (2 * need > ttl) ttl = Math.max(rule.ttl, Math.min(settings.maxTtl, Math.ceil((2 * need) / STEP) * STEP))
  const refreshBefore = Math.min(Math.max(rule.refreshBefore, need), Math.floor(ttl / 2))
  return { ttl, refreshBefore: Math.max(refreshBefore, Math.min(rule.refreshBefore, ttl - 1)) }
}
