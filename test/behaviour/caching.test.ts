import t from 'tap'
import { hosts } from './hosts.js'
import { sign } from 'node:crypto'
import { options, manualClock, userFromHeader } from './options.js'
import { rsaKey } from '../helpers/keys.js'
import { cloudfrontSetCookies, cookieHeader, judge } from '../helpers/cookies.js'

for (const host of hosts) {
  t.test(host.name, async (t) => {
    t.test('the second request of a user is served from the cache, byte for byte the same set', async (t) => {
      const clock = manualClock()
      const app = await host.build(options({ now: clock.now }))
      t.teardown(() => app.close())
      const a = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      clock.advance(30)
      const b = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      t.same(cloudfrontSetCookies(b.headers['set-cookie']), cloudfrontSetCookies(a.headers['set-cookie']))
      const s = app.stats()
      t.equal(s.signatures, 1)
      t.equal(s.misses, 1)
      t.equal(s.hits, 1)
      t.equal(s.size, 1)
    })

    t.test('each user has an entry of their own; the same prefix in the same second is signed once', async (t) => {
      const clock = manualClock()
      const app = await host.build(options({ now: clock.now }))
      t.teardown(() => app.close())
      const a = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      const b = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'bob' } })
      t.equal(app.stats().size, 2)
      t.equal(app.stats().signatures, 1)
      t.equal(app.stats().shared, 1)
      t.equal(cookieHeader(b.headers['set-cookie']), cookieHeader(a.headers['set-cookie']), 'policies hold no user: the sets are identical')
      t.equal(judge('/courses/42/x.ts', cookieHeader(b.headers['set-cookie']), { now: clock.now }).ok, true)
      clock.advance(1)
      const c = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'carol' } })
      t.equal(app.stats().signatures, 2, 'a second later, a policy of its own')
      t.not(cookieHeader(c.headers['set-cookie']), cookieHeader(a.headers['set-cookie']))
      const d = await app.request({ url: '/courses/43/player', headers: { 'x-user': 'alice' } })
      t.equal(app.stats().signatures, 3, 'another prefix, another signature')
      t.equal(judge('/courses/42/x.ts', cookieHeader(d.headers['set-cookie']), { now: clock.now }).ok, false)
    })

    t.test('a set is reissued once less than refreshBefore is left', async (t) => {
      const clock = manualClock()
      const app = await host.build(options({ now: clock.now, ttl: 600, refreshBefore: 120 }))
      t.teardown(() => app.close())
      const first = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      const e1 = Number(first.headers['cloudfront-grant-expires'])
      clock.advance(600 - 121)
      const stillCached = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      t.equal(Number(stillCached.headers['cloudfront-grant-expires']), e1, '121 s left: still the cached set')
      clock.advance(2)
      const renewed = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      const e2 = Number(renewed.headers['cloudfront-grant-expires'])
      t.ok(e2 > e1, 'less than 120 s left: a new set')
      t.equal(e2, Math.floor(clock.now() / 1000) + 600)
      t.equal(app.stats().reissues, 1)
      t.equal(app.stats().signatures, 2)
      // The renewed set keeps playback going past the first set's expiry.
      const cookie = cookieHeader(renewed.headers['set-cookie'])
      t.equal(judge('/courses/42/seg-9.ts', cookie, { now: () => (e1 + 10) * 1000 }).ok, true)
    })

    t.test('concurrent misses for the same set share one signature', async (t) => {
      const clock = manualClock()
      // The signature waits until all eight requests have asked for their user: on every host
      // (in-process inject or real sockets) the other seven find it in flight.
      let asked = 0
      let release!: () => void
      const gate = new Promise<void>((resolve) => { release = resolve })
      const app = await host.build(options({
        now: clock.now,
        privateKey: undefined,
        sign: async (data, alg) => {
          await gate
          return sign(alg === 'SHA256' ? 'sha256' : 'sha1', data, rsaKey.privateKey)
        },
        getUser: (req) => {
          if (++asked === 8) release()
          return userFromHeader(req)
        }
      }))
      t.teardown(() => app.close())
      const all = await Promise.all(Array.from({ length: 8 }, () =>
        app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })))
      const sets = new Set(all.map((r) => cookieHeader(r.headers['set-cookie'])))
      t.equal(sets.size, 1, 'every response carries the same set')
      t.equal(judge('/courses/42/a.ts', [...sets][0] as string, { now: clock.now }).ok, true)
      t.equal(app.stats().signatures, 1)
      t.equal(app.stats().coalesced, 7)
    })

    t.test('a client that already holds the fresh set gets nothing again', async (t) => {
      const clock = manualClock()
      const app = await host.build(options({ now: clock.now }))
      t.teardown(() => app.close())
      const first = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      const cookie = cookieHeader(first.headers['set-cookie'])
      const again = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice', cookie } })
      t.same(cloudfrontSetCookies(again.headers['set-cookie']), [])
      t.equal(again.headers['cloudfront-grant-expires'], first.headers['cloudfront-grant-expires'], 'still told when it expires')
      t.equal(app.stats().clientFresh, 1)
    })

    t.test('only the whole signature cookie counts as held', async (t) => {
      const clock = manualClock()
      const app = await host.build(options({ now: clock.now }))
      t.teardown(() => app.close())
      const first = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      const signature = cookieHeader(first.headers['set-cookie']).split('; ').find((c) => c.startsWith('CloudFront-Signature=')) as string
      const value = signature.slice('CloudFront-Signature='.length)
      const cases: Array<[string, number]> = [
        [`theme=dark; ${signature}; lang=en`, 0],
        [`theme=dark;${signature}`, 0],
        [`X${signature}`, 3],
        [`${signature}x`, 3],
        [`${signature.slice(0, -1)}`, 3],
        // Same length, last character changed: not the set we hold.
        [`${signature.slice(0, -1)}${signature.endsWith('A') ? 'B' : 'A'}`, 3],
        // Same length and tail, head forged: taken as held. That only decides whether the same
        // cookies are sent again; the sender merely goes without a set it could use.
        [`CloudFront-Signature=${value.startsWith('x') ? 'y' : 'x'}${value.slice(1)}`, 0]
      ]
      for (const [cookie, sent] of cases) {
        const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice', cookie } })
        t.equal(cloudfrontSetCookies(res.headers['set-cookie']).length, sent, cookie.slice(0, 40))
      }
    })

    t.test('a client holding a valid set from before a restart is recognised without signing', async (t) => {
      const clock = manualClock()
      const before = await host.build(options({ now: clock.now }))
      const first = await before.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      await before.close()
      const app = await host.build(options({ now: clock.now }))
      t.teardown(() => app.close())
      const cookie = cookieHeader(first.headers['set-cookie'])
      const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice', cookie } })
      t.same(cloudfrontSetCookies(res.headers['set-cookie']), [])
      t.equal(app.stats().signatures, 0)
      // A set for another prefix does not count for this one.
      const other = await app.request({ url: '/courses/43/player', headers: { 'x-user': 'alice', cookie } })
      t.equal(cloudfrontSetCookies(other.headers['set-cookie']).length, 3)
    })

    t.test('a client holding a set close to expiry gets a new one', async (t) => {
      const clock = manualClock()
      const app = await host.build(options({ now: clock.now, ttl: 600, refreshBefore: 120 }))
      t.teardown(() => app.close())
      const first = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      const cookie = cookieHeader(first.headers['set-cookie'])
      clock.advance(500)
      const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice', cookie } })
      t.equal(cloudfrontSetCookies(res.headers['set-cookie']).length, 3)
    })

    t.test('the cache is bounded', async (t) => {
      const clock = manualClock()
      const app = await host.build(options({ now: clock.now, cache: { max: 3 } }))
      t.teardown(() => app.close())
      for (const user of ['u1', 'u2', 'u3', 'u4', 'u5']) {
        await app.request({ url: '/courses/42/player', headers: { 'x-user': user } })
      }
      t.equal(app.stats().size, 3)
    })

    t.test('the bound counts users: the sets of a user stay or go together', async (t) => {
      const clock = manualClock()
      const app = await host.build(options({ now: clock.now, cache: { max: 2 } }))
      t.teardown(() => app.close())
      await app.request({ url: '/courses/1/player', headers: { 'x-user': 'u1' } })
      await app.request({ url: '/courses/2/player', headers: { 'x-user': 'u1' } })
      await app.request({ url: '/courses/1/player', headers: { 'x-user': 'u2' } })
      t.match(app.stats(), { size: 3, users: 2 })
      await app.request({ url: '/courses/1/player', headers: { 'x-user': 'u3' } })
      t.match(app.stats(), { size: 2, users: 2 }, 'u1, the least recent, left with both sets')
      const hits = app.stats().hits
      const again = await app.request({ url: '/courses/1/player', headers: { 'x-user': 'u2' } })
      t.equal(cloudfrontSetCookies(again.headers['set-cookie']).length, 3)
      t.equal(app.stats().hits, hits + 1, 'u2 is still served from the cache')
    })

    t.test('a set larger than the byte bound is issued but not kept', async (t) => {
      const app = await host.build(options({ cache: { maxBytes: 100 } }))
      t.teardown(() => app.close())
      const res = await app.request({ url: '/courses/1/player', headers: { 'x-user': 'u1' } })
      t.equal(cloudfrontSetCookies(res.headers['set-cookie']).length, 3)
      t.match(app.stats(), { size: 0, users: 0, bytes: 0 })
    })
  })
}
