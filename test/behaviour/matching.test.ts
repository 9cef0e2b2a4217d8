import t from 'tap'
import { hosts } from './hosts.js'
import { options, manualClock } from './options.js'
import { cloudfrontSetCookies, cookieHeader, attr, judge } from '../helpers/cookies.js'

for (const host of hosts) {
  t.test(host.name, async (t) => {
    const clock = manualClock()
    const app = await host.build(options({ now: clock.now }))
    t.teardown(() => app.close())

    t.test('a matching route grants its prefix, and only that prefix', async (t) => {
      const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      t.equal(res.status, 200)
      const set = cloudfrontSetCookies(res.headers['set-cookie'])
      t.same(set.map((c) => c.slice(0, c.indexOf('='))), ['CloudFront-Policy', 'CloudFront-Signature', 'CloudFront-Key-Pair-Id'])
      for (const c of set) {
        t.equal(attr(c, 'Path'), '/courses/42/')
        t.equal(attr(c, 'Secure'), '')
        t.equal(attr(c, 'HttpOnly'), '')
        t.equal(attr(c, 'SameSite'), 'Lax')
      }
      const cookie = cookieHeader(set)
      const now = clock.now
      t.equal(judge('/courses/42/index.m3u8', cookie, { now }).ok, true, 'opens the course playlist')
      t.equal(judge('/courses/42/hd/segment-001.ts?v=2', cookie, { now }).ok, true, 'opens nested segments with a query')
      t.equal(judge('/courses/4/index.m3u8', cookie, { now }).ok, false, 'not the sibling /courses/4')
      t.equal(judge('/courses/420/index.m3u8', cookie, { now }).ok, false, 'not the sibling /courses/420')
      t.equal(judge('/courses/43/index.m3u8', cookie, { now }).ok, false, 'not another course')
      t.equal(judge('/courses/index.m3u8', cookie, { now }).ok, false, 'not the parent')
    })

    t.test('the grant expires after the ttl (default 15 minutes)', async (t) => {
      const res = await app.request({ url: '/courses/7/player', headers: { 'x-user': 'alice' } })
      const cookie = cookieHeader(res.headers['set-cookie'])
      const expires = Number(res.headers['cloudfront-grant-expires'])
      t.equal(expires, Math.floor(clock.now() / 1000) + 900)
      t.equal(judge('/courses/7/a.ts', cookie, { now: () => (expires - 1) * 1000 }).ok, true)
      t.equal(judge('/courses/7/a.ts', cookie, { now: () => expires * 1000 }).ok, false)
    })

    t.test('a route outside the rules grants nothing', async (t) => {
      const res = await app.request({ url: '/public', headers: { 'x-user': 'alice' } })
      t.equal(res.status, 200)
      t.same(cloudfrontSetCookies(res.headers['set-cookie']), [])
      t.equal(res.headers['cloudfront-grant-expires'], undefined)
    })

    t.test('one user holds several prefixes at once, each with its own Path', async (t) => {
      const a = await app.request({ url: '/courses/1/player', headers: { 'x-user': 'bob' } })
      const b = await app.request({ url: '/courses/2/player', headers: { 'x-user': 'bob' } })
      const pa = cloudfrontSetCookies(a.headers['set-cookie']).map((c) => attr(c, 'Path'))
      const pb = cloudfrontSetCookies(b.headers['set-cookie']).map((c) => attr(c, 'Path'))
      t.same(new Set(pa), new Set(['/courses/1/']))
      t.same(new Set(pb), new Set(['/courses/2/']))
      t.equal(judge('/courses/1/x.ts', cookieHeader(a.headers['set-cookie']), { now: clock.now }).ok, true)
      t.equal(judge('/courses/2/x.ts', cookieHeader(b.headers['set-cookie']), { now: clock.now }).ok, true)
    })

    t.test('an explicit grant from a handler', async (t) => {
      const res = await app.request({ method: 'POST', url: '/progress/99', headers: { 'x-user': 'carol' } })
      t.equal(res.status, 200)
      const body = JSON.parse(res.body)
      t.equal(body.prefix, '/courses/99/')
      t.equal(body.expires, Number(res.headers['cloudfront-grant-expires']))
      t.equal(judge('/courses/99/seg.ts', cookieHeader(res.headers['set-cookie']), { now: clock.now }).ok, true)
      t.equal(judge('/courses/9/seg.ts', cookieHeader(res.headers['set-cookie']), { now: clock.now }).ok, false)
    })
  })
}
