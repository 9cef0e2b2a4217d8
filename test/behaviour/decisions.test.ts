// Why no grant: every request that matched a rule, or called grant(), and received nothing is
// reported to onDecision with its reason and prefix, on every host.
import t from 'tap'
import { hosts } from './hosts.js'
import { options, userFromHeader } from './options.js'
import { cloudfrontSetCookies, cookieHeader } from '../helpers/cookies.js'
import type { GrantDecision } from '../../src/core/grants/types.js'

for (const host of hosts) {
  t.test(host.name, async (t) => {
    const decisions: GrantDecision[] = []
    const app = await host.build(options({
      onDecision: (decision) => { decisions.push(decision) },
      authorize: (req) => userFromHeader(req) !== 'stranger'
    }))
    t.teardown(() => app.close())
    const reasonsOf = async (req: Parameters<typeof app.request>[0]): Promise<GrantDecision[]> => {
      decisions.length = 0
      await app.request(req)
      return decisions.slice()
    }

    t.test('a granted request reports nothing (the check can tell)', async (t) => {
      t.strictSame(await reasonsOf({ url: '/courses/42/player', headers: { 'x-user': 'alice' } }), [])
    })
    t.test('no-user', async (t) => {
      t.strictSame(await reasonsOf({ url: '/courses/42/player' }), [{ reason: 'no-user', prefix: '/courses/42/' }])
    })
    t.test('not-authorized', async (t) => {
      t.strictSame(await reasonsOf({ url: '/courses/42/player', headers: { 'x-user': 'stranger' } }), [{ reason: 'not-authorized', prefix: '/courses/42/' }])
    })
    t.test('status: a matched route that answers 404, signed in or not, is decided by its status first', async (t) => {
      const before = app.stats().signatures
      t.strictSame(await reasonsOf({ url: '/courses/404/missing', headers: { 'x-user': 'alice' } }), [{ reason: 'status', prefix: '/courses/404/' }])
      t.strictSame(await reasonsOf({ url: '/courses/404/missing' }), [{ reason: 'status', prefix: '/courses/404/' }])
      t.equal(app.stats().signatures, before, 'no set is signed for a response its status withholds')
      t.strictSame(await reasonsOf({ url: '/courses/404/player', headers: { 'x-user': 'alice' } }), [])
      t.equal(app.stats().signatures, before + 1, 'the same prefix on a 200 is signed (the count can tell)')
    })
    t.test('status: a handler that throws, whatever the host sees of it, is withheld by its 500', async (t) => {
      t.strictSame(await reasonsOf({ url: '/courses/42/crash', headers: { 'x-user': 'alice' } }), [{ reason: 'status', prefix: '/courses/42/' }])
    })
    t.test('failed: a grant() with an unsafe prefix (the prefix is not repeated)', async (t) => {
      t.strictSame(await reasonsOf({ method: 'POST', url: '/probe', headers: { 'x-user': 'alice', 'x-prefix': '/courses/*/' } }), [{ reason: 'failed', prefix: undefined }])
    })
    t.test('revoked: a grant on a response that revokes', async (t) => {
      t.strictSame(await reasonsOf({ method: 'POST', url: '/probe', headers: { 'x-user': 'alice', 'x-revoke': '1', 'x-also': '/books/1/' } }), [{ reason: 'revoked', prefix: '/books/1/' }])
    })
    t.test('ipv6-refused', async (t) => {
      const seen: GrantDecision[] = []
      const bound = await host.build(options({ ipBound: true, onDecision: (decision) => { seen.push(decision) } }))
      t.teardown(() => bound.close())
      await bound.request({ url: '/courses/7/player', headers: { 'x-user': 'alice', 'x-forwarded-for': '203.0.113.7' } })
      t.strictSame(seen, [], 'an IPv4 client is granted')
      await bound.request({ url: '/courses/7/player', headers: { 'x-user': 'alice', 'x-forwarded-for': '2001:db8::1' } })
      t.strictSame(seen, [{ reason: 'ipv6-refused', prefix: '/courses/7/' }])
    })
    t.test('client-fresh: the client sends back the set it holds', async (t) => {
      const first = await app.request({ url: '/courses/9/player', headers: { 'x-user': 'alice' } })
      const cookie = cookieHeader(first.headers['set-cookie'])
      t.equal(cloudfrontSetCookies(first.headers['set-cookie']).length, 3)
      t.strictSame(await reasonsOf({ url: '/courses/9/player', headers: { 'x-user': 'alice', cookie } }), [{ reason: 'client-fresh', prefix: '/courses/9/' }])
    })
  })
}
