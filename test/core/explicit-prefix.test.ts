// What a refused grant() prefix is told, engine-side (the hosts only pass the error on): what was
// wrong and what to do, never the prefix itself when it may be an attacker's spelling.
import t from 'tap'
import { createGrantServices } from '../../src/core/grants/compose.js'
import { checkPrefix, foldSegment } from '../../src/core/grants/rule-book.js'
import type { GrantOptions } from '../../src/core/grants/types.js'
import { rsaKey } from '../helpers/keys.js'

const base: GrantOptions = {
  keyPairId: rsaKey.keyPairId,
  privateKey: rsaKey.privatePem,
  distribution: 'https://media.example.com',
  // The rule's own opt-in, and no global authorize: a prefix no rule covers has nobody to ask.
  rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*', authorize: 'any-signed-in-user' }],
  getUser: () => 'alice'
}

t.test('each refusal says what to do', async (t) => {
  const engine = createGrantServices(base).engine
  const cases: Array<[string, RegExp]> = [
    ['/courses/', /contains the resource "\/courses\/:courseId\/\*".*grant a prefix inside the resource, or check access in the handler and pass \{ authorized: true \}/],
    ['/', /contains the resource/],
    ['/books/1/', /no rule or route config covers it and there is no authorize option to ask: check access in the handler and pass \{ authorized: true \}, or give an authorize option/],
    ['/Courses/43/', /spells a rule's path otherwise than the rule does .*write it as the rule's resource does/],
    ['/c%6Furses/43/', /needs no escape.*write the prefix as a browser sends it/],
    ['/caf%c3%a9/', /lower-case hex/],
    ['/books;v=1/', /starts and ends with "\/".*without wildcards, ";", empty or dot segments/],
    ['/' + 'a'.repeat(1024) + '/', /at most 1024 bytes/]
  ]
  for (const [prefix, message] of cases) {
    t.throws(() => engine.prefixGrant(prefix), { code: 'FST_ERR_CF_INVALID_PARAM', statusCode: 400, message }, prefix)
  }
  for (const prefix of ['/Courses/43/', '/c%6Furses/43/', '/caf%c3%a9/']) {
    let message = ''
    try {
      engine.prefixGrant(prefix)
    } catch (err) {
      message = (err as Error).message
    }
    t.ok(message !== '' && !message.includes(prefix), `${prefix} is not echoed`)
  }
})

t.test('with a global authorize, a prefix no rule covers is its to decide, with no parameters', async (t) => {
  const authorize = (): boolean => true
  const engine = createGrantServices({ ...base, rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }], authorize }).engine
  const books = engine.prefixGrant('/books/1/')
  t.equal(books.rule.authorize, authorize)
  t.strictSame(books.params, {})
  const course = engine.prefixGrant('/courses/42/')
  t.equal(course.rule.authorize, authorize)
  t.strictSame(course.params, { courseId: '42' })
  t.equal(engine.prefixGrant('/courses/', { authorized: true }).rule.authorize, undefined, '{ authorized: true }: nobody else is asked')
})

t.test('two rules whose literals differ only in case: each spelling is its own rule\'s', async (t) => {
  const engine = createGrantServices({ ...base, rules: [{ match: '/a/:id/*', resource: '/media/:id/*', authorize: 'any-signed-in-user' }, { match: '/b/:id/*', resource: '/Media/:id/*', authorize: 'any-signed-in-user' }] }).engine
  t.strictSame(engine.prefixGrant('/media/1/').params, { id: '1' })
  t.strictSame(engine.prefixGrant('/Media/1/').params, { id: '1' })
  t.throws(() => engine.prefixGrant('/MEDIA/1/'), { code: 'FST_ERR_CF_INVALID_PARAM' })
})

t.test('checkPrefix: the escapes a hop would decode into another path, and the ones a path needs', async (t) => {
  for (const hex of ['41', '7A', '30', '2D', '2E', '5F', '7E', '2F', '5C', '00', '1F', '7F', '2f', 'c3', 'aB']) {
    t.throws(() => checkPrefix(`/x%${hex}/`), { code: 'FST_ERR_CF_INVALID_PARAM' }, `%${hex}`)
  }
  for (const hex of ['20', '25', '2A', '3B', '3F', '40', 'C3', 'FF', '2B', '23']) {
    t.equal(checkPrefix(`/x%${hex}/`), `/x%${hex}/`, `%${hex}`)
  }
})

t.test('foldSegment reads a segment as lenient hops do', async (t) => {
  const table: Array<[string, string]> = [
    ['Courses', 'courses'], ['c%6Furses', 'courses'], ['c%EF%BD%8Furses', 'courses'], ['cour%C5%BFes', 'courses'],
    ['c%256Furses', 'courses'], ['courses;v=1', 'courses'], ['courses%3Bv=1', 'courses'], ['courses.', 'courses'], ['courses%20', 'courses'], ['%C3', '%c3'], ['CAF%C3%89', 'café']
  ]
  for (const [segment, folded] of table) t.equal(foldSegment(segment), folded, segment)
})

t.test('a parameter slot contains every value: a prefix that stops above a deeper literal contains the resource', async (t) => {
  const engine = createGrantServices({ ...base, rules: [{ match: '/a/:id/*', resource: '/courses/:id/videos/*', authorize: 'any-signed-in-user' }, { match: '/p/*', resource: '/public/*', authorize: 'any-signed-in-user' }] }).engine
  t.throws(() => engine.prefixGrant('/courses/42/'), { code: 'FST_ERR_CF_INVALID_PARAM', message: /contains the resource "\/courses\/:id\/videos\/\*"/ })
  t.strictSame(engine.prefixGrant('/courses/42/videos/').params, { id: '42' }, 'the resource itself is covered')
  t.strictSame(engine.prefixGrant('/public/').params, {}, 'a prefix equal to a literal resource is covered by it')
  t.throws(() => engine.prefixGrant('/'), { code: 'FST_ERR_CF_INVALID_PARAM', message: /contains the resource/ })
  t.throws(() => engine.prefixGrant('/Public/'), { code: 'FST_ERR_CF_INVALID_PARAM', message: /spells a rule's path otherwise/ })
})
