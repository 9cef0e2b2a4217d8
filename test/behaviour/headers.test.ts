import t from 'tap'
import { hosts } from './hosts.js'
import { options } from './options.js'
import { setCookies, cloudfrontSetCookies, attr } from '../helpers/cookies.js'

for (const host of hosts) {
  t.test(host.name, async (t) => {
    t.test('responses with a grant are private, no-store', async (t) => {
      const app = await host.build(options())
      t.teardown(() => app.close())
      const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      t.equal(res.headers['cache-control'], 'private, no-store')
      const pub = await app.request({ url: '/public', headers: { 'x-user': 'alice' } })
      t.not(String(pub.headers['cache-control'] ?? ''), 'private, no-store', 'responses without grants are left alone')
    })

    t.test('the app\'s own cookies and cache directives: cookies kept, shared caching removed', async (t) => {
      const app = await host.build(options())
      t.teardown(() => app.close())
      const res = await app.request({ url: '/courses/42/app-cookie', headers: { 'x-user': 'alice' } })
      const all = setCookies(res.headers['set-cookie'])
      t.ok(all.some((c) => c.startsWith('app=1')), 'the app cookie survives')
      t.equal(cloudfrontSetCookies(all).length, 3)
      const cc = String(res.headers['cache-control'])
      t.match(cc, /private/)
      t.match(cc, /no-store/)
      t.notMatch(cc, /public|max-age/)
    })

    t.test('cookie attributes: domain, sameSite, and Expires equal to the policy expiry', async (t) => {
      const app = await host.build(options({ cookie: { domain: 'example.com', sameSite: 'Strict' } }))
      t.teardown(() => app.close())
      const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      const expires = Number(res.headers['cloudfront-grant-expires'])
      for (const c of cloudfrontSetCookies(res.headers['set-cookie'])) {
        t.equal(attr(c, 'Domain'), 'example.com')
        t.equal(attr(c, 'SameSite'), 'Strict')
        t.equal(attr(c, 'Expires'), new Date(expires * 1000).toUTCString())
      }
    })

    t.test('the expiry header can be renamed or turned off', async (t) => {
      const renamed = await host.build(options({ expiresHeader: 'x-media-grant-expires' }))
      t.teardown(() => renamed.close())
      const a = await renamed.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      t.match(String(a.headers['x-media-grant-expires']), /^\d{10}$/)
      t.equal(a.headers['cloudfront-grant-expires'], undefined)
      const off = await host.build(options({ expiresHeader: false }))
      t.teardown(() => off.close())
      const b = await off.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      t.equal(b.headers['cloudfront-grant-expires'], undefined)
      t.equal(cloudfrontSetCookies(b.headers['set-cookie']).length, 3)
    })
  })
}

for (const host of hosts) {
  t.test(`${host.name}: the app cookie appears exactly once`, async (t) => {
    const app = await host.build(options())
    t.teardown(() => app.close())
    const res = await app.request({ url: '/courses/42/app-cookie', headers: { 'x-user': 'alice' } })
    t.equal(setCookies(res.headers['set-cookie']).filter((c) => c.startsWith('app=')).length, 1)
    t.equal(setCookies(res.headers['set-cookie']).length, 4)
  })
}

for (const host of hosts) {
  t.test(`${host.name}: one Set-Cookie per cookie name and Path, whichever grants ask for the prefix`, async (t) => {
    const app = await host.build(options())
    t.teardown(() => app.close())
    const res = await app.request({ url: '/courses/42/regrant', headers: { 'x-user': 'alice' } })
    t.equal(res.status, 200)
    const ours = cloudfrontSetCookies(res.headers['set-cookie'])
    const identities = ours.map((c) => `${c.slice(0, c.indexOf('='))} ${attr(c, 'Path') ?? ''}`)
    t.strictSame(identities, [
      'CloudFront-Policy /courses/42/', 'CloudFront-Signature /courses/42/', 'CloudFront-Key-Pair-Id /courses/42/'
    ], 'the rule\'s grant and two grant() calls of its prefix: one set')
    const expires = Number(res.headers['cloudfront-grant-expires'])
    t.ok(ours.every((c) => attr(c, 'Expires') === new Date(expires * 1000).toUTCString()), 'the expiry header is the set\'s that is sent')
    const plain = await app.request({ url: '/courses/43/player', headers: { 'x-user': 'alice' } })
    t.equal(cloudfrontSetCookies(plain.headers['set-cookie']).length, 3, 'a route\'s grant alone: its set (the count can tell)')
  })
}
