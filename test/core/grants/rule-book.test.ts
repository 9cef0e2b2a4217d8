// The rule book without HTTP: matching (first match wins, remembered), the rules a route could
// match, the rule covering a CDN path, handler prefixes, and the refusals at compile time.
import t from 'tap'
import { RuleBook } from '../../../src/core/grants/rule-book.js'
import type { GrantRule } from '../../../src/core/grants/types.js'

const defaults = { ttl: 900, refreshBefore: 300, ipBound: false, maxTtl: 7 * 86400 }
const allow = (): boolean => true

function book (rules: Array<GrantRule<unknown>>, warnings: string[] = []): RuleBook<unknown> {
  return new RuleBook<unknown>(rules, defaults, allow, (m) => { warnings.push(m) })
}

t.test('match: the first rule that matches, with its prefix and params; remembered per path', async (t) => {
  const rules = book([
    { match: '/courses/:courseId/player', resource: '/courses/:courseId/*', ttl: 60 },
    { match: '/courses/:courseId/*', resource: '/media/:courseId/*' }
  ])
  const first = rules.match('/courses/42/player')
  t.equal(first?.path, '/courses/42/')
  t.strictSame(first?.params, { courseId: '42' })
  t.equal(first?.rule.ttl, 60)
  t.equal(rules.match('/courses/42/player'), first, 'the same pending grant, remembered')
  t.equal(rules.match('/courses/42/notes')?.path, '/media/42/', 'the second rule for other paths')
  t.equal(rules.match('/public/x'), null)
  t.throws(() => rules.match('/courses/*/player'), { code: 'FST_ERR_CF_INVALID_PARAM' }, 'an unsafe value is a 400')
})

t.test('rulesForRoute: only the rules a router path could match', async (t) => {
  const rules = book([
    { match: '/courses/:courseId/*', resource: '/courses/:courseId/*' },
    { match: '/books/:bookId/read', resource: '/books/:bookId/*' }
  ])
  t.equal(rules.rulesForRoute('/courses/:id/player').length, 1)
  t.equal(rules.rulesForRoute('/books/:id/read').length, 1)
  t.equal(rules.rulesForRoute('/health').length, 0)
})

t.test('coveringRule: a CDN path under a resource, with its params read back', async (t) => {
  const rules = book([{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }])
  t.strictSame(rules.coveringRule('/courses/42/hd/a.m3u8')?.params, { courseId: '42' })
  t.equal(rules.coveringRule('/courses/42/a.ts')?.prefix, '/courses/42/')
  t.equal(rules.coveringRule('/books/1/a.ts'), null)
  t.equal(rules.coveringRule('/courses/'), null, 'the parent itself is no file of the prefix')
  t.throws(() => rules.coveringRule('/courses/%2A/a.ts'), { code: 'FST_ERR_CF_INVALID_PARAM' }, 'never treated as uncovered')
})

t.test('prefixGrant: a covered prefix is decided by its rule, an uncovered one by the global authorize', async (t) => {
  const own = async (): Promise<boolean> => false
  const rules = book([{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*', authorize: own }])
  const covered = rules.prefixGrant('/courses/42/')
  t.equal(covered.rule.authorize, own)
  t.strictSame(covered.params, { courseId: '42' })
  t.equal(rules.prefixGrant('/books/1/').rule.authorize, allow)
  t.equal(rules.prefixGrant('/courses/', { authorized: true }).rule.authorize, undefined)
  t.throws(() => rules.prefixGrant('/courses/'), { code: 'FST_ERR_CF_INVALID_PARAM' }, 'it contains the resource')
  t.equal(rules.prefixGrant('/books/1/', { ttl: 60 }).rule.ttl, 60)
})

t.test('compile-time refusals and warnings', async (t) => {
  t.throws(() => book([
    { match: '/a/:id/*', resource: '/media/:id/*' },
    { match: '/b/:id/*', resource: '/media/:id/x/*' }
  ]), { code: 'FST_ERR_CF_OVERLAPPING_RULES' })
  t.throws(() => book([{ match: '/a/*', resource: '/media/:id/*' }]), { code: 'FST_ERR_CF_INVALID_OPTION', message: /:id/ })
  t.throws(() => new RuleBook<unknown>([{ match: '/a/:id/*', resource: '/a/:id/*' }], defaults, undefined, () => {}),
    { code: 'FST_ERR_CF_INVALID_OPTION', message: /authorize/ })
  const warnings: string[] = []
  book([{ match: '/a/:id/*', resource: '/shared/*' }], warnings)
  t.match(warnings, [/captures :id/])
  t.throws(() => book([{ match: '/a/:id/*', resource: '/a/:id/*' }]).pending(
    book([{ match: '/a/:id/*', resource: '/a/:id/*' }]).rules[0] as never, { id: 'x'.repeat(1100) }
  ), { code: 'FST_ERR_CF_COOKIE_TOO_LARGE' }, 'no set could carry a Path this long')
})
