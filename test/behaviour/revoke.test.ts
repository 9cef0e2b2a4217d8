import t from 'tap'
import { hosts } from './hosts.js'
import { options, manualClock } from './options.js'
import { setCookies, cloudfrontSetCookies, attr } from '../helpers/cookies.js'

for (const host of hosts) {
  t.test(host.name, async (t) => {
    t.test('revoke() clears every cached prefix of the user and drops them from the cache', async (t) => {
      const clock = manualClock()
      const app = await host.build(options({ now: clock.now }))
      t.teardown(() => app.close())
      await app.request({ url: '/courses/1/player', headers: { 'x-user': 'alice' } })
      await app.request({ url: '/courses/2/player', headers: { 'x-user': 'alice' } })
      await app.request({ url: '/courses/1/player', headers: { 'x-user': 'bob' } })
      t.equal(app.stats().size, 3)
      const res = await app.request({ method: 'POST', url: '/logout', headers: { 'x-user': 'alice' } })
      t.equal(res.status, 200)
      const cleared = setCookies(res.headers['set-cookie'])
      t.ok(cleared.length > 0)
      for (const c of cleared) {
        t.match(c, /^CloudFront-[A-Za-z-]+=;/, 'an empty value')
        t.equal(attr(c, 'Max-Age'), '0')
      }
      t.same(new Set(cleared.map((c) => attr(c, 'Path'))), new Set(['/courses/1/', '/courses/2/']))
      t.equal(res.headers['cache-control'], 'private, no-store')
      t.equal(app.stats().size, 1, 'bob keeps his set')
      clock.advance(1)
      const again = await app.request({ url: '/courses/1/player', headers: { 'x-user': 'alice' } })
      t.equal(cloudfrontSetCookies(again.headers['set-cookie']).filter((c) => !/Max-Age=0/.test(c)).length, 3, 'a later visit signs anew')
      // alice /1, alice /2, bob /1 (the same policy as alice's, shared), alice /1 a second later
      t.equal(app.stats().signatures, 3)
      t.equal(app.stats().size, 2)
    })

    t.test('revoke() clears exactly the cookie names the cleared sets had, once each', async (t) => {
      for (const hashAlgorithm of ['SHA1', 'SHA256'] as const) {
        const app = await host.build(options({ hashAlgorithm }))
        t.teardown(() => app.close())
        const granted = await app.request({ url: '/courses/1/player', headers: { 'x-user': 'alice' } })
        const names = cloudfrontSetCookies(granted.headers['set-cookie']).map((c) => c.slice(0, c.indexOf('='))).sort()
        const expected = ['CloudFront-Key-Pair-Id', 'CloudFront-Policy', 'CloudFront-Signature', ...(hashAlgorithm === 'SHA256' ? ['CloudFront-Hash-Algorithm'] : [])].sort()
        t.same(names, expected, `${hashAlgorithm}: the set granted`)
        for (const url of ['/logout', '/logout/1', '/logout/3']) {
          const res = await app.request({ method: 'POST', url, headers: { 'x-user': 'alice' } })
          const cleared = setCookies(res.headers['set-cookie'])
          t.same(cleared.map((c) => c.slice(0, c.indexOf('='))).sort(), expected, `${hashAlgorithm}, POST ${url}: the same names cleared, each once`)
          await app.request({ url: '/courses/1/player', headers: { 'x-user': 'alice' } })
        }
      }
    })

    t.test('revoke(prefix) clears that prefix only', async (t) => {
      const app = await host.build(options())
      t.teardown(() => app.close())
      await app.request({ url: '/courses/1/player', headers: { 'x-user': 'alice' } })
      await app.request({ url: '/courses/2/player', headers: { 'x-user': 'alice' } })
      const res = await app.request({ method: 'POST', url: '/logout/2', headers: { 'x-user': 'alice' } })
      t.same(new Set(setCookies(res.headers['set-cookie']).map((c) => attr(c, 'Path'))), new Set(['/courses/2/']))
      t.match(app.stats(), { size: 1, users: 1 })
      const { hits, signatures } = app.stats()
      const kept = await app.request({ url: '/courses/1/player', headers: { 'x-user': 'alice' } })
      t.equal(cloudfrontSetCookies(kept.headers['set-cookie']).length, 3)
      t.match(app.stats(), { hits: hits + 1, signatures }, 'the other prefix is still served from the cache')
      const none = await app.request({ method: 'POST', url: '/logout/3', headers: { 'x-user': 'alice' } })
      t.same(new Set(setCookies(none.headers['set-cookie']).map((c) => attr(c, 'Path'))), new Set(['/courses/3/']), 'a prefix never granted is cleared all the same')
      t.match(app.stats(), { size: 1, users: 1 })
    })
  })
}
