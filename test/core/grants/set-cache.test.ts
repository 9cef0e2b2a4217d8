// The per-user cache of signed sets, without HTTP: slots, several prefixes per user, dropping,
// counts and the byte bound.
import t from 'tap'
import { SetCache, cacheEntry, sentBack, type CacheEntry } from '../../../src/core/grants/cache.js'

function entry (path: string, slot = `${path}\u0000\u0000900`, signature = 'S'.repeat(300)): CacheEntry {
  return cacheEntry({
    setCookie: [`CloudFront-Policy=P; Path=${path}`, `CloudFront-Signature=${signature}; Path=${path}`, `CloudFront-Key-Pair-Id=K; Path=${path}`],
    expires: 2_000_000_000,
    keyPairId: 'K',
    slot,
    path,
    values: { signedQuery: `Policy=P&Signature=${signature}&Key-Pair-Id=K`, cookieHeader: `CloudFront-Policy=P; CloudFront-Signature=${signature}` }
  })
}

t.test('a user\'s set is found by its slot, and only by it', async (t) => {
  const cache = new SetCache(10, 1 << 20)
  const a = entry('/courses/1/')
  cache.put('alice', a)
  t.equal(cache.get('alice', a.slot), a)
  t.equal(cache.get('alice', '/courses/1/\u0000\u0000600'), undefined, 'another lifetime is another set')
  t.equal(cache.get('bob', a.slot), undefined, 'another user holds nothing')
  t.strictSame(cache.stats(), { size: 1, users: 1, bytes: cache.stats().bytes })
})

t.test('several prefixes per user; replacing a set keeps the count; dropping one prefix keeps the others', async (t) => {
  const cache = new SetCache(10, 1 << 20)
  const a = entry('/courses/1/')
  const b = entry('/courses/2/')
  cache.put('alice', a)
  cache.put('alice', b)
  t.equal(cache.get('alice', a.slot), a)
  t.equal(cache.get('alice', b.slot), b)
  t.equal(cache.stats().size, 2)
  const a2 = entry('/courses/1/', a.slot, 'T'.repeat(300))
  cache.put('alice', a2)
  t.equal(cache.get('alice', a.slot), a2, 'the newer set replaces the older')
  t.equal(cache.stats().size, 2, 'counted once')
  t.strictSame(cache.drop('alice', '/courses/1/'), ['/courses/1/'])
  t.equal(cache.get('alice', a.slot), undefined)
  t.equal(cache.get('alice', b.slot), b, 'the other prefix stays')
  t.strictSame(cache.drop('alice', undefined), ['/courses/2/'])
  t.strictSame(cache.stats(), { size: 0, users: 0, bytes: 0 })
  t.strictSame(cache.drop('nobody', undefined), [])
})

t.test('bounded by users and by bytes (values and strings counted)', async (t) => {
  const byUsers = new SetCache(2, 1 << 20)
  for (const user of ['a', 'b', 'c']) byUsers.put(user, entry('/courses/1/'))
  t.strictSame([byUsers.stats().users, byUsers.stats().size], [2, 2])
  const one = entry('/courses/1/')
  const small = new SetCache(100, 2000)
  small.put('a', one)
  t.ok(small.stats().bytes > one.signedQuery.length + one.cookieHeader.length, 'the kept values count')
  small.put('b', entry('/courses/1/'))
  small.put('c', entry('/courses/1/'))
  t.ok(small.stats().bytes <= 2000)
  t.ok(small.stats().users < 3, 'the oldest user went')
})

t.test('sentBack: the whole signature cookie, not a look-alike', async (t) => {
  const a = entry('/courses/1/', undefined, 'A'.repeat(276) + 'B'.repeat(24))
  const cookie = `CloudFront-Signature=${'A'.repeat(276)}${'B'.repeat(24)}`
  t.ok(sentBack(`x=1; ${cookie}; y=2`, a))
  t.ok(sentBack(cookie, a))
  t.notOk(sentBack(`${cookie}C`, a), 'a longer value')
  t.notOk(sentBack(`X${cookie}`, a), 'another name ending the same')
  t.notOk(sentBack(cookie.slice(0, -1) + 'C', a), 'another tail')
})
