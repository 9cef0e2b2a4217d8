import t from 'tap'
import { hosts } from './hosts.js'
import { options, manualClock } from './options.js'
import { cloudfrontSetCookies, cookieHeader, judge } from '../helpers/cookies.js'
import { rsaKey, rsaKey2 } from '../helpers/keys.js'

const keyIdOf = (header: unknown): string | undefined =>
  cloudfrontSetCookies(header).find((c) => c.startsWith('CloudFront-Key-Pair-Id='))?.split(';')[0]?.split('=')[1]

for (const host of hosts) {
  t.test(host.name, async (t) => {
    t.test('rotating the active key: the next request of each user gets a set signed by the new key', async (t) => {
      const clock = manualClock()
      const app = await host.build(options({
        keyPairId: undefined,
        privateKey: undefined,
        keys: [{ keyPairId: rsaKey.keyPairId, privateKey: rsaKey.privatePem }, { keyPairId: rsaKey2.keyPairId, privateKey: rsaKey2.privateKey }],
        activeKeyPairId: rsaKey.keyPairId,
        now: clock.now
      }))
      t.teardown(() => app.close())
      const before = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice' } })
      t.equal(keyIdOf(before.headers['set-cookie']), rsaKey.keyPairId)
      const held = cookieHeader(before.headers['set-cookie'])
      app.rotate(rsaKey2.keyPairId)
      // The client still holds a fresh set of the old key: it is replaced all the same.
      const after = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'alice', cookie: held } })
      t.equal(keyIdOf(after.headers['set-cookie']), rsaKey2.keyPairId)
      t.equal(judge('/courses/42/a.ts', cookieHeader(after.headers['set-cookie']), { now: clock.now }).ok, true)
      const bob = await app.request({ url: '/courses/42/player', headers: { 'x-user': 'bob' } })
      t.equal(keyIdOf(bob.headers['set-cookie']), rsaKey2.keyPairId)
      t.throws(() => app.rotate('KUNKNOWN'), { code: 'FST_ERR_CF_INVALID_OPTION' })
    })
  })
}
