// The same failure semantics on every host: a failed grant() rejects, and a handler that catches it
// answers what it chose, without that grant but with the others; grant() and revoke() never throw
// synchronously, whatever fails (an unsafe prefix, a getUser that throws or rejects).
import t from 'tap'
import { hosts, type ProbeResult } from './hosts.js'
import { options, userFromHeader } from './options.js'
import { attr, cloudfrontSetCookies } from '../helpers/cookies.js'

// getUser as an app's may fail: x-user "throws" throws synchronously, "rejects" rejects.
function failingGetUser (req: unknown): string | undefined | Promise<string> {
  const user = userFromHeader(req)
  if (user === 'throws') throw new Error('session store down')
  if (user === 'rejects') return Promise.reject(new Error('session store down'))
  return user
}

for (const host of hosts) {
  t.test(host.name, async (t) => {
    const app = await host.build(options({ getUser: failingGetUser }))
    t.teardown(() => app.close())
    const probe = async (headers: Record<string, string>): Promise<{ status: number, result: ProbeResult, paths: Array<string | undefined> }> => {
      const res = await app.request({ method: 'POST', url: '/probe', headers })
      return { status: res.status, result: JSON.parse(res.body), paths: cloudfrontSetCookies(res.headers['set-cookie']).map((c) => attr(c, 'Path')) }
    }

    t.test('a valid grant resolves and is sent (the probe itself works)', async (t) => {
      const { status, result, paths } = await probe({ 'x-user': 'alice', 'x-prefix': '/courses/7/' })
      t.equal(status, 200)
      t.strictSame(result, { threw: false, outcome: 'resolved' })
      t.strictSame(paths, ['/courses/7/', '/courses/7/', '/courses/7/'])
    })

    t.test('an unsafe prefix rejects; the caught failure leaves the other grant on the 200', async (t) => {
      const { status, result, paths } = await probe({ 'x-user': 'alice', 'x-prefix': '/courses/*/', 'x-also': '/courses/8/' })
      t.equal(status, 200, 'the handler answered what it chose')
      t.strictSame(result, { threw: false, outcome: 'rejected FST_ERR_CF_INVALID_PARAM' })
      t.strictSame(paths, ['/courses/8/', '/courses/8/', '/courses/8/'], 'only the grant that succeeded')
    })

    for (const how of ['throws', 'rejects']) {
      t.test(`a getUser that ${how}: grant() rejects, never throws; nothing is issued`, async (t) => {
        const { status, result, paths } = await probe({ 'x-user': how, 'x-prefix': '/courses/7/' })
        t.equal(status, 200)
        t.strictSame(result, { threw: false, outcome: 'rejected without code' })
        t.strictSame(paths, [])
      })

      t.test(`a getUser that ${how}: revoke() rejects, never throws`, async (t) => {
        const { status, result } = await probe({ 'x-user': how, 'x-revoke': '1' })
        t.equal(status, 200)
        t.strictSame(result, { threw: false, outcome: 'rejected without code' })
      })
    }

    t.test('a valid revoke resolves (the probe itself works)', async (t) => {
      const { status, result } = await probe({ 'x-user': 'alice', 'x-revoke': '1' })
      t.equal(status, 200)
      t.strictSame(result, { threw: false, outcome: 'resolved' })
    })
  })
}
