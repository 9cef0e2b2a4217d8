import t from 'tap'
import { hosts } from './hosts.js'
import { options, manualClock } from './options.js'
import { cloudfrontSetCookies, cookieHeader, judge } from '../helpers/cookies.js'
import { decodeBase64 } from '../../src/core/encoding.js'

function policyOf (header: unknown): { Statement: Array<{ Condition: Record<string, Record<string, unknown>> }> } {
  const c = cloudfrontSetCookies(header).find((s) => s.startsWith('CloudFront-Policy='))
  const b64 = c?.slice('CloudFront-Policy='.length, c.indexOf(';')) ?? ''
  return JSON.parse(String(decodeBase64(b64)))
}

for (const host of hosts) {
  t.test(host.name, async (t) => {
    t.test('ip-bound grants carry the client address (from the trusted proxy header)', async (t) => {
      const clock = manualClock()
      const app = await host.build(options({ now: clock.now, ipBound: true }))
      t.teardown(() => app.close())
      const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice', 'x-forwarded-for': '203.0.113.7' } })
      t.same(policyOf(res.headers['set-cookie']).Statement[0]?.Condition.IpAddress, { 'AWS:SourceIp': '203.0.113.7/32' })
      const cookie = cookieHeader(res.headers['set-cookie'])
      t.equal(judge('/courses/42/a.ts', cookie, { now: clock.now, clientIp: '203.0.113.7' }).ok, true)
      t.equal(judge('/courses/42/a.ts', cookie, { now: clock.now, clientIp: '203.0.113.8' }).ok, false)
      // Another address is another set.
      const other = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice', 'x-forwarded-for': '198.51.100.1' } })
      t.same(policyOf(other.headers['set-cookie']).Statement[0]?.Condition.IpAddress, { 'AWS:SourceIp': '198.51.100.1/32' })
    })

    t.test('IPv4-mapped IPv6 addresses are normalised', async (t) => {
      const app = await host.build(options({ ipBound: true }))
      t.teardown(() => app.close())
      const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice', 'x-forwarded-for': '::ffff:203.0.113.9' } })
      t.same(policyOf(res.headers['set-cookie']).Statement[0]?.Condition.IpAddress, { 'AWS:SourceIp': '203.0.113.9/32' })
    })

    t.test('IPv6 clients are refused by default', async (t) => {
      const app = await host.build(options({ ipBound: true }))
      t.teardown(() => app.close())
      const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice', 'x-forwarded-for': '2001:db8::1' } })
      t.equal(res.status, 200)
      t.same(cloudfrontSetCookies(res.headers['set-cookie']), [])
      t.equal(app.stats().refused, 1)
    })

    t.test('IPv6 clients get an unbound grant with ipv6: "unbound"', async (t) => {
      const app = await host.build(options({ ipBound: true, ipv6: 'unbound' }))
      t.teardown(() => app.close())
      const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice', 'x-forwarded-for': '2001:db8::1' } })
      t.equal(policyOf(res.headers['set-cookie']).Statement[0]?.Condition.IpAddress, undefined)
    })

    t.test('without ipBound, no address is in the policy', async (t) => {
      const app = await host.build(options())
      t.teardown(() => app.close())
      const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice', 'x-forwarded-for': '203.0.113.7' } })
      t.equal(policyOf(res.headers['set-cookie']).Statement[0]?.Condition.IpAddress, undefined)
    })
  })
}
