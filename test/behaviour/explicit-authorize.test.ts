// grant(prefix) is authorised by default: when a rule's resource covers the prefix, that rule's
// authorize decides, with the parameters read back from the prefix. A prefix no rule covers is
// decided by the global authorize, with no parameters, and { authorized: true } says the handler
// has decided already (explicit-prefixes.test.ts: prefixes that contain a rule, look-alikes).
import t from 'tap'
import { hosts } from './hosts.js'
import { options, userFromHeader } from './options.js'
import { attr, cloudfrontSetCookies } from '../helpers/cookies.js'

for (const host of hosts) {
  t.test(host.name, async (t) => {
    const calls: Array<{ params: Record<string, string>, prefix: string }> = []
    // Alice owns course 42 only.
    const app = await host.build(options({
      authorize: (req, params, prefix) => {
        calls.push({ params, prefix })
        return userFromHeader(req) === 'alice' && params.courseId === '42'
      }
    }))
    t.teardown(() => app.close())
    const grant = async (user: string, prefix: string, extra: Record<string, string> = {}): Promise<{ outcome: string, paths: Array<string | undefined> }> => {
      const res = await app.request({ method: 'POST', url: '/probe', headers: { 'x-user': user, 'x-prefix': prefix, ...extra } })
      t.equal(res.status, 200)
      return { outcome: JSON.parse(res.body).outcome, paths: cloudfrontSetCookies(res.headers['set-cookie']).map((c) => attr(c, 'Path')) }
    }

    t.test('the owner is granted the course through grant()', async (t) => {
      calls.length = 0
      t.strictSame(await grant('alice', '/courses/42/'), { outcome: 'resolved', paths: ['/courses/42/', '/courses/42/', '/courses/42/'] })
      t.strictSame(calls, [{ params: { courseId: '42' }, prefix: '/courses/42/' }], 'the rule authorize ran with the course read back')
    })

    t.test("the keep-alive route does not hand Bob Alice's course", async (t) => {
      calls.length = 0
      t.strictSame(await grant('bob', '/courses/42/'), { outcome: 'null', paths: [] })
      t.strictSame(calls, [{ params: { courseId: '42' }, prefix: '/courses/42/' }])
    })

    t.test('a deeper prefix under the resource is authorised for its course too', async (t) => {
      calls.length = 0
      t.strictSame(await grant('alice', '/courses/43/hd/'), { outcome: 'null', paths: [] })
      t.strictSame(calls, [{ params: { courseId: '43' }, prefix: '/courses/43/hd/' }])
    })

    t.test('{ authorized: true }: the handler decided, the rule is not asked', async (t) => {
      calls.length = 0
      t.strictSame(await grant('bob', '/courses/42/', { 'x-authorized': '1' }), { outcome: 'resolved', paths: ['/courses/42/', '/courses/42/', '/courses/42/'] })
      t.strictSame(calls, [])
    })

    t.test('a prefix no rule covers is decided by the global authorize, with no parameters', async (t) => {
      calls.length = 0
      t.strictSame(await grant('bob', '/books/1/'), { outcome: 'null', paths: [] })
      t.strictSame(calls, [{ params: {}, prefix: '/books/1/' }])
    })

    t.test('...or by the handler, with { authorized: true }', async (t) => {
      calls.length = 0
      t.strictSame(await grant('bob', '/books/1/', { 'x-authorized': '1' }), { outcome: 'resolved', paths: ['/books/1/', '/books/1/', '/books/1/'] })
      t.strictSame(calls, [])
    })

    t.test('a covered prefix whose parameter the rule refuses rejects, never grants', async (t) => {
      calls.length = 0
      t.strictSame(await grant('alice', '/courses/4%32/'), { outcome: 'rejected FST_ERR_CF_INVALID_PARAM', paths: [] })
      t.strictSame(calls, [])
    })
  })
}
