import t from 'tap'
import { hosts } from './hosts.js'
import { options } from './options.js'
import { cloudfrontSetCookies } from '../helpers/cookies.js'

// Values a route parameter must never carry into a resource: each would widen the grant
// or leave its segment. Raw, as they would appear in the request path.
const HOSTILE: Array<[string, string]> = [
  ['a literal star', '*'],
  ['a star after an id', '42*'],
  ['an encoded star', '%2A'],
  ['an encoded question mark', '%3F'],
  ['an encoded slash', '42%2F..%2F43'],
  ['a dot-dot segment', '..'],
  ['an encoded dot-dot', '%2E%2E'],
  ['a dot segment', '.'],
  ['an encoded newline', '42%0A'],
  ['an encoded space', '4%202'],
  ['a percent sign', '%25'],
  ['an empty value', '']
]

for (const host of hosts) {
  t.test(host.name, async (t) => {
    let authorizeCalls = 0
    const app = await host.build(options({ authorize: () => { authorizeCalls++; return true } }))
    t.teardown(() => app.close())

    for (const [name, value] of HOSTILE) {
      t.test(`${name} (${JSON.stringify(value)}) is answered 400, nothing issued`, async (t) => {
        const res = await app.request({ url: `/courses/${value}/player`, headers: { 'x-user': 'owner' } })
        // Request clients (inject, fetch) resolve dot segments and an empty segment reaches no
        // route: those requests never reach a handler (raw-socket cases are in test/fastify).
        if (['', '.', '..', '%2E%2E'].includes(value)) t.ok(res.status === 400 || res.status === 404, `status ${res.status}`)
        else {
          t.equal(res.status, 400)
          t.match(res.body, /FST_ERR_CF_INVALID_PARAM/)
        }
        t.same(cloudfrontSetCookies(res.headers['set-cookie']), [])
      })
    }

    t.test('a literal question mark ends the path: the value before it is what is checked', async (t) => {
      const res = await app.request({ url: '/courses/42?x=*/player', headers: { 'x-user': 'owner' } })
      t.same(cloudfrontSetCookies(res.headers['set-cookie']), [])
    })

    t.test('the handler never ran and authorize was never asked for hostile values', async (t) => {
      t.equal(authorizeCalls, 0)
      const ok = await app.request({ url: '/courses/ab-c_1.2~x/player', headers: { 'x-user': 'owner' } })
      t.equal(ok.status, 200)
      t.equal(authorizeCalls, 1)
      t.equal(cloudfrontSetCookies(ok.headers['set-cookie']).length, 3)
    })

    t.test('explicit grant with a hostile prefix is refused', async (t) => {
      const res = await app.request({ method: 'POST', url: '/progress/%2A', headers: { 'x-user': 'owner' } })
      t.not(res.status, 200)
      t.same(cloudfrontSetCookies(res.headers['set-cookie']), [])
    })
  })

  t.test(`${host.name}: a custom check replaces the default one, within the hard limits`, async (t) => {
    const app = await host.build(options({
      rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*', checkParam: (v) => /^\d+$/.test(v) }]
    }))
    t.teardown(() => app.close())
    t.equal((await app.request({ url: '/courses/42/player', headers: { 'x-user': 'u' } })).status, 200)
    t.equal((await app.request({ url: '/courses/abc/player', headers: { 'x-user': 'u' } })).status, 400)

    const lax = await host.build(options({
      rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*', checkParam: () => true }]
    }))
    t.teardown(() => lax.close())
    t.equal((await lax.request({ url: '/courses/%C3%A9t%C3%A9/player', headers: { 'x-user': 'u' } })).status, 200, 'percent-encoded values when allowed')
    t.equal((await lax.request({ url: '/courses/*/player', headers: { 'x-user': 'u' } })).status, 400, 'a star is still refused')
    // The value becomes part of the cookie's Path, where ";" would start an attribute of the caller's choosing.
    const injected = await lax.request({ url: '/courses/4;Domain=example.com/player', headers: { 'x-user': 'u' } })
    t.equal(injected.status, 400, 'a ";" is still refused')
    t.same(cloudfrontSetCookies(injected.headers['set-cookie']), [])
    t.equal((await lax.request({ url: '/courses/4%3BDomain=example.com/player', headers: { 'x-user': 'u' } })).status, 200, 'an escaped one is a character of the name')
  })
}
