import t, { type Test } from 'tap'
import { hosts } from './hosts.js'
import { options, manualClock } from './options.js'
import { cloudfrontSetCookies } from '../helpers/cookies.js'

function assertNothingIssued (t: Test, res: { headers: Record<string, unknown> }, why: string): void {
  t.same(cloudfrontSetCookies(res.headers['set-cookie']), [], `${why}: no CloudFront cookie`)
  t.equal(res.headers['cloudfront-grant-expires'], undefined, `${why}: no expiry header`)
}

for (const host of hosts) {
  t.test(host.name, async (t) => {
    const clock = manualClock()
    const calls: Array<{ params: Record<string, string>, prefix: string }> = []
    const app = await host.build(options({
      now: clock.now,
      authorize: async (req, params, prefix) => {
        calls.push({ params, prefix })
        return (req as { headers: Record<string, unknown> }).headers['x-user'] === 'owner'
      }
    }))
    t.teardown(() => app.close())

    t.test('anonymous: nothing issued', async (t) => {
      const res = await app.request({ url: '/courses/42/player' })
      t.equal(res.status, 200)
      assertNothingIssued(t, res, 'anonymous')
    })

    t.test('unauthorised: nothing issued; authorize sees the checked params and prefix', async (t) => {
      calls.length = 0
      const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'stranger' } })
      t.equal(res.status, 200)
      assertNothingIssued(t, res, 'unauthorised')
      t.same(calls, [{ params: { courseId: '42' }, prefix: '/courses/42/' }])
    })

    t.test('authorised: issued', async (t) => {
      const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'owner' } })
      t.equal(cloudfrontSetCookies(res.headers['set-cookie']).length, 3)
    })

    // Responses that must carry nothing, whatever the route asked for.
    const failing: Array<[string, { method?: 'GET' | 'POST', url: string, headers?: Record<string, string> }, number]> = [
      ['404', { url: '/courses/42/missing', headers: { 'x-user': 'owner' } }, 404],
      ['thrown error', { url: '/courses/42/crash', headers: { 'x-user': 'owner' } }, 500],
      ['thrown error after grant()', { method: 'POST', url: '/progress-crash/42', headers: { 'x-user': 'owner' } }, 500],
      ['explicit grant without a user', { method: 'POST', url: '/progress/42' }, 200],
      ['unknown route under a rule', { url: '/courses/42/nope', headers: { 'x-user': 'owner' } }, 404]
    ]
    for (const [name, req, status] of failing) {
      t.test(`${name}: ${status}, nothing issued`, async (t) => {
        const res = await app.request(req)
        t.equal(res.status, status)
        assertNothingIssued(t, res, name)
      })
    }
  })

  t.test(`${host.name}: a sync authorize returning a truthy non-true value grants nothing`, async (t) => {
    const app = await host.build(options({ authorize: () => 'yes' as unknown as boolean }))
    t.teardown(() => app.close())
    const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'owner' } })
    assertNothingIssued(t, res, 'truthy authorize')
  })

  t.test(`${host.name}: getUser failing fails the request, nothing issued`, async (t) => {
    const failures: Array<[string, () => unknown]> = [
      ['rejects', async () => { throw new Error('session store down') }],
      ['throws', () => { throw new Error('session store down') }]
    ]
    for (const [how, getUser] of failures) {
      const app = await host.build(options({ getUser: getUser as never }))
      const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'owner' } })
      await app.close()
      t.equal(res.status, 500, how)
      assertNothingIssued(t, res, `getUser ${how}`)
    }
  })

  t.test(`${host.name}: only the configured statuses carry grants`, async (t) => {
    const app = await host.build(options({ statuses: [201] }))
    t.teardown(() => app.close())
    const res = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'owner' } })
    t.equal(res.status, 200)
    assertNothingIssued(t, res, '200 not listed')
  })
}
