// One response's decision without HTTP: the status first, then failure and revocation, then the
// sets; nothing signed for a response its status withholds; one set per prefix.
import t from 'tap'
import { createGrantServices } from '../../../src/core/grants/compose.js'
import {
  GrantResponse, combineSets, preparedCarried, preparedGrant, routeGrant
} from '../../../src/core/grants/response.js'
import type { ClientInfo, GrantDecision, Issued } from '../../../src/core/grants/types.js'
import { rsaKey } from '../../helpers/keys.js'
import { DISTRIBUTION } from '../../helpers/cookies.js'

interface Req { user?: string }
const client: ClientInfo = { cookieHeader: undefined, ip: '203.0.113.7' }

function setup (): { decisions: GrantDecision[], engine: ReturnType<typeof createGrantServices<Req>>['engine'] } {
  const decisions: GrantDecision[] = []
  const { engine } = createGrantServices<Req>({
    keyPairId: rsaKey.keyPairId,
    privateKey: rsaKey.privatePem,
    distribution: DISTRIBUTION,
    rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }],
    getUser: (req) => req.user,
    authorize: 'any-signed-in-user',
    onDecision: (d) => { decisions.push(d) }
  })
  return { decisions, engine }
}

const route = (engine: ReturnType<typeof setup>['engine'], id = '42') => engine.pathGrant(`/courses/${id}/player`) as NonNullable<ReturnType<typeof engine.pathGrant>>

t.test('the status decides first: a 404 signs nothing and reports status, signed in or not', async (t) => {
  const { engine, decisions } = setup()
  for (const user of ['alice', undefined]) {
    const response = new GrantResponse<Req>(engine, { user }, client)
    await response.prepare(route(engine))
    t.equal(await response.finish(404), null)
  }
  t.strictSame(decisions, [{ reason: 'status', prefix: '/courses/42/' }, { reason: 'status', prefix: '/courses/42/' }])
  t.equal(engine.stats().signatures, 0)
  const ok = new GrantResponse<Req>(engine, { user: 'alice' }, client)
  await ok.prepare(route(engine))
  t.equal(engine.stats().signatures, 0, 'prepared: still unsigned before the status is known')
  const carried = await ok.finish(200)
  t.equal(carried?.setCookie.length, 3)
  t.equal(engine.stats().signatures, 1, 'signed once the status allows it')
})

t.test('a failed handler withholds on an allowed status; the status is named first otherwise', async (t) => {
  const { engine, decisions } = setup()
  const failed = new GrantResponse<Req>(engine, { user: 'alice' }, client)
  failed.start(route(engine))
  failed.fail()
  t.equal(await failed.finish(200), null)
  const crashed = new GrantResponse<Req>(engine, { user: 'alice' }, client)
  crashed.start(route(engine))
  crashed.fail()
  t.equal(await crashed.finish(500), null)
  t.strictSame(decisions.map((d) => d.reason), ['failed', 'status'])
})

t.test('revoke: clears go out, grants are withheld as revoked', async (t) => {
  const { engine, decisions } = setup()
  const response = new GrantResponse<Req>(engine, { user: 'alice' }, client)
  await response.grant('/courses/7/')
  await response.revoke('/courses/7/')
  const carried = await response.finish(200)
  t.equal(carried?.expires, -1)
  t.ok(carried?.setCookie.every((c) => /Max-Age=0/.test(c)))
  t.strictSame(decisions, [{ reason: 'revoked', prefix: '/courses/7/' }])
})

t.test('finish waits for grant() calls still running; one set per prefix, the later one kept', async (t) => {
  const { engine } = setup()
  const response = new GrantResponse<Req>(engine, { user: 'alice' }, client)
  response.start(route(engine))
  const first = response.grant('/courses/42/', { ttl: '10m' })
  t.equal(response.busy, true)
  const carried = await response.finish(200)
  const grant = await first
  t.equal(carried?.setCookie.length, 3)
  t.equal(carried?.expires, grant?.expires, 'the handler\'s set is the one sent')
  t.match(grant?.signedQuery(), /^Policy=.+&Signature=.+&Key-Pair-Id=/)
  t.strictSame(JSON.parse(JSON.stringify(grant)), { prefix: '/courses/42/', expires: grant?.expires }, 'no signed value serialised')
})

t.test('combineSets: distinct prefixes all kept, the earliest expiry', async (t) => {
  const set = (path: string, expires: number): Issued => ({ setCookie: [`a=${path}`], expires, path, signedQuery: '', cookieHeader: '' })
  t.strictSame(combineSets([set('/a/', 5), set('/b/', 3), set('/a/', 9)]), { setCookie: ['a=/b/', 'a=/a/'], expires: 3 })
})

t.test('routeGrant (the fast path): the status first, then the pipeline', async (t) => {
  const { engine, decisions } = setup()
  t.equal(routeGrant(engine, { user: 'alice' }, route(engine), client, 302), null)
  t.equal(await routeGrant(engine, {}, route(engine), client, 200), null)
  t.strictSame(decisions.map((d) => d.reason), ['status', 'no-user'])
  t.equal((await routeGrant(engine, { user: 'alice' }, route(engine), client, 200))?.setCookie.length, 3)
  const hit = routeGrant(engine, { user: 'alice' }, route(engine), client, 200)
  t.equal((hit as Issued).setCookie.length, 3, 'a cached set comes back synchronously')
})

t.test('a prepared grant: only a result in hand, decided as finish() decides it, and taken over by adopt()', async (t) => {
  const { engine, decisions } = setup()
  const r = route(engine)
  t.equal(preparedGrant<Req>({ user: 'alice' }, r, engine.prepare({ user: 'alice' }, r, client)), null,
    'a set still to sign is not prepared: the response must be held for it')
  await engine.issue({ user: 'alice' }, r, client)
  const signed = engine.stats().signatures
  const cached = preparedGrant<Req>({ user: 'alice' }, r, engine.prepare({ user: 'alice' }, r, client))
  if (cached === null) throw new Error('a cached set is prepared')
  t.equal(preparedCarried(engine, cached, 404), null)
  t.strictSame(decisions, [{ reason: 'status', prefix: '/courses/42/' }])
  t.equal(preparedCarried(engine, cached, 200)?.setCookie.length, 3)
  const anonymous = preparedGrant<Req>({}, r, engine.prepare({}, r, client))
  if (anonymous === null) throw new Error('a refusal is prepared')
  t.equal(preparedCarried(engine, anonymous, 200), null)
  t.equal(preparedCarried(engine, anonymous, 500), null)
  t.strictSame(decisions.slice(1).map((d) => d.reason), ['no-user', 'status'], 'the status named first, as finish()')
  t.equal(preparedGrant<Req>({}, r, Promise.resolve('no-user')), null, 'a promise is not prepared')

  // The handler asks for more: the whole response takes the prepared grant over, with a grant() of its own.
  const response = new GrantResponse<Req>(engine, { user: 'alice' }, client)
  response.adopt(cached.route, cached.result)
  await response.grant('/books/7/', { authorized: true })
  const carried = await response.finish(200)
  t.equal(carried?.setCookie.length, 6)
  t.equal(engine.stats().signatures, signed + 1, 'only the handler\'s set signed')
})
