import { flat } from '../cookies.js'
import type { Lifetime } from '../playlists/lifetime.js'
import { isThenable } from '../guards.js'
import type { CoveredPath, PlaylistAccess, SignedQuery } from '../playlists/mirror.js'
import { Admitted, type GrantEngine } from './engine.js'
import { slotOf, type PendingGrant } from './rule-book.js'
import { type ClientInfo, type Issued, type NoGrantReason } from './types.js'

// The playlist mirror's view of the engine, through its public calls: the rule whose resource
// covers a CDN path, the user it admits, and that user's set for the prefix as a signed query.

/** A CDN path's grant: the rule's pending grant, and one per stretched playlist lifetime. */
export interface PlaylistGrant<Req> extends CoveredPath {
  pending: PendingGrant<Req>
  stretched: Map<string, PendingGrant<Req>>
}

/**
 * What the mirror hands back to the engine about a request: the client, and the request its refusals are reported for.
 */
export interface PlaylistClient<Req> {
  request: Req
  client: ClientInfo
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

function userOrRefusal (who: Admitted | NoGrantReason): string | null | false {
  if (who instanceof Admitted) return who.user
  return who === 'no-user' ? null : false
}

function queryOf (issued: Issued | NoGrantReason): SignedQuery | null {
  return typeof issued === 'string' ? null : { query: issued.signedQuery, expires: issued.expires }
}

/** What the mirror asks the engine, for requests of type Req. */
export function playlistAccess<Req> (
  engine: GrantEngine<Req>, now: () => number
): PlaylistAccess<Req, PlaylistGrant<Req>, PlaylistClient<Req>> {
  const memo = new Map<string, PlaylistGrant<Req> | null>()
  return {
    distribution: engine.distribution,
    expiresHeader: engine.expiresHeader,
    signUrl: (url, o) => engine.signUrl(url, o),
    now,
    cover (cdnPath) {
      const known = memo.get(cdnPath)
      if (known !== undefined) return known
      // Throws FST_ERR_CF_INVALID_PARAM for a hostile value: not remembered, answered 400.
      const found = engine.coveringRule(cdnPath)
      const grant = found === null
        ? null
        : {
            prefix: found.prefix,
            lifetime: { ttl: found.rule.ttl, refreshBefore: found.rule.refreshBefore },
            pending: engine.pending(found.rule, found.params),
            stretched: new Map()
          }
      if (memo.size >= MEMO_SIZE) memo.clear()
      memo.set(cdnPath, grant)
      return grant
    },
    admit (request, grant) {
      const who = engine.playlistUser(request, grant.pending)
      if (isThenable(who)) return Promise.resolve(who).then(userOrRefusal)
      return userOrRefusal(who)
    },
    sign (asking, user, grant, lifetime) {
      const issued = engine.playlistSet(asking.request, user, stretch(grant, lifetime), asking.client)
      return isThenable<Issued | NoGrantReason>(issued) ? Promise.resolve(issued).then(queryOf) : queryOf(issued)
    }
  }
}
