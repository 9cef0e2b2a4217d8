import { flat } from '../cookies.js'
import type { GrantEngine } from '../grants/engine.js'
import { slotOf, type PendingGrant } from '../grants/rules.js'
import { isThenable, type ClientInfo, type Issued } from '../grants/types.js'
import { credentialsOf } from './credentials.js'
import type { Lifetime } from './lifetime.js'
import { PlaylistMirror, type CoveredPath, type PlaylistsOptions, type SignedQuery } from './mirror.js'

// The mirror over the grant engine: the rule whose resource covers a CDN path, the user it
// admits, and the user's cached set for the prefix as a signed query.

/** A CDN path's grant: the rule's pending grant, and one per stretched playlist lifetime. */
export interface PlaylistGrant<Req> extends CoveredPath {
  pending: PendingGrant<Req>
  stretched: Map<string, PendingGrant<Req>>
}

/** CDN paths remembered with their grant: players ask for the same few playlists over and over. */
const MEMO_SIZE = 2048

/** A playlist's lifetime as a variant of the rule's pending grant: the slot (and so the set) is per ttl. */
function stretch<Req> (grant: PlaylistGrant<Req>, lifetime: Lifetime): PendingGrant<Req> {
  const p = grant.pending
  if (lifetime.ttl === p.rule.ttl && lifetime.refreshBefore === p.rule.refreshBefore) return p
  const key = `${lifetime.ttl}/${lifetime.refreshBefore}`
  let s = grant.stretched.get(key)
  if (s === undefined) {
    s = { ...p, rule: { ...p.rule, ...lifetime }, slot: flat(slotOf(p.path, '', lifetime.ttl)) }
    grant.stretched.set(key, s)
  }
  return s
}

function queryOf (issued: Issued | null): SignedQuery | null {
  if (issued === null) return null
  return { query: (credentialsOf(issued.setCookie) as { query: string }).query, expires: issued.expires }
}

/** The playlist mirror for an engine's rules and sets. Options are checked now. */
export function createPlaylistMirror<Req> (engine: GrantEngine<Req>, options: PlaylistsOptions, now: () => number): PlaylistMirror<Req, PlaylistGrant<Req>, ClientInfo> {
  const memo = new Map<string, PlaylistGrant<Req> | null>()
  return new PlaylistMirror<Req, PlaylistGrant<Req>, ClientInfo>(options, {
    distribution: engine.distribution,
    expiresHeader: engine.expiresHeader,
    signUrl: (url, o) => engine.signUrl(url, o),
    now,
    cover (cdnPath) {
      const known = memo.get(cdnPath)
      if (known !== undefined) return known
      // Throws FST_ERR_CF_INVALID_PARAM for a hostile value: not remembered, answered 400.
      const found = engine.rules.ruleFor(cdnPath)
      const grant = found === null
        ? null
        : { prefix: found.prefix, lifetime: { ttl: found.rule.ttl, refreshBefore: found.rule.refreshBefore }, pending: engine.rules.pending(found.rule, found.params, false), stretched: new Map() }
      if (memo.size >= MEMO_SIZE) memo.clear()
      memo.set(cdnPath, grant)
      return grant
    },
    admit: (request, grant) => engine.admit(request, grant.pending),
    sign (client, user, grant, lifetime) {
      const issued = engine.setFor(user, stretch(grant, lifetime), client)
      return isThenable<Issued | null>(issued) ? Promise.resolve(issued).then(queryOf) : queryOf(issued)
    }
  })
}
