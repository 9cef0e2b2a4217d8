// grant(prefix) opens nothing an authorize has not decided, on every host:
// - a prefix that contains a rule's resource ("/", "/courses/") would open every course at once, and
//   no authorize can decide for all of them: refused unless the handler says { authorized: true };
// - a prefix no rule covers is asked of the global authorize (params {}), and refused without
//   { authorized: true } when there is none;
// - a prefix spelled otherwise than browsers send it, or than a rule's resource spells its literal
//   segments, is refused always: a CDN or origin that decodes or folds it opens another path.
// A refusal rejects with FST_ERR_CF_INVALID_PARAM: nothing is signed, no Set-Cookie is sent, and
// onDecision hears only "failed" without the prefix.
import t from 'tap'
import { hosts, type HostApp } from './hosts.js'
import { options, userFromHeader } from './options.js'
import { attr, setCookies } from '../helpers/cookies.js'
import type { GrantDecision } from '../../src/core/grants/types.js'

interface Asked { params: Record<string, string>, prefix: string }
interface Answer {
  status: number
  outcome: string
  /** The Path of every Set-Cookie (ours or not). */
  paths: Array<string | undefined>
  maxAge: Array<string | undefined>
  asked: Asked[]
  decisions: GrantDecision[]
  /** Signatures made while answering. */
  signed: number
}

const REFUSED = 'rejected FST_ERR_CF_INVALID_PARAM'
const failedQuietly = [{ reason: 'failed', prefix: undefined }]

/** Calls grant() (or revoke()) through the probe route and reports everything the app let out. */
function prober (app: HostApp, asked: Asked[], decisions: GrantDecision[]) {
  return async (prefix: string, opts: { user?: string, authorized?: boolean, revoke?: boolean } = {}): Promise<Answer> => {
    asked.length = 0
    decisions.length = 0
    const before = app.stats().signatures
    const headers: Record<string, string> = { 'x-user': opts.user ?? 'alice', 'x-prefix': prefix }
    if (opts.authorized === true) headers['x-authorized'] = '1'
    if (opts.revoke === true) headers['x-revoke'] = '1'
    const res = await app.request({ method: 'POST', url: '/probe', headers })
    const cookies = setCookies(res.headers['set-cookie'])
    return {
      status: res.status,
      outcome: JSON.parse(res.body).outcome,
      paths: cookies.map((c) => attr(c, 'Path')),
      maxAge: cookies.map((c) => attr(c, 'Max-Age')),
      asked: asked.slice(),
      decisions: decisions.slice(),
      signed: app.stats().signatures - before
    }
  }
}

/** What a refused grant lets out: nothing. */
const refusal = { status: 200, outcome: REFUSED, paths: [], maxAge: [], asked: [], decisions: failedQuietly, signed: 0 }

// Spellings of course 43 (or of the courses folder) that S3, a CDN function or a Windows origin reads
// as the rule's own path, and escapes that are never the canonical spelling of anything.
const LOOK_ALIKES = [
  '/Courses/43/', '/COURSES/', '/COURSES/43/', '/courses/43/HD/../', '/c%6Furses/43/', '/courses%2F43/', '/courses%2f43/',
  '/c%256Furses/43/', '/courses%5C43/', '/courses/%2e%2e/', '/courses/%2E/', '/courses/4%33/', '/courses/43%00/', '/courses/43%0A/', '/courses;v=1/43/',
  '/courses%3Bv=1/43/', '/c%EF%BD%8Furses/43/', '/cour%C5%BFes/43/', '/courses./43/', '/courses%20/43/', '/caf%c3%a9/',
  '//courses/43/', '/courses//43/', '/' + 'a'.repeat(1100) + '/',
  // A ";" would end the cookie's Path attribute and start another one.
  '/books;v=1/', '/books;Domain=example.com/', '/books/1;Max-Age=99999999/'
]

for (const host of hosts) {
  t.test(host.name, async (t) => {
    const asked: Asked[] = []
    const decisions: GrantDecision[] = []
    // Alice owns course 42 and book 1. The global authorize is the rule's, and is asked for
    // prefixes no rule covers.
    const app = await host.build(options({
      authorize: (req, params, prefix) => {
        asked.push({ params, prefix })
        if (userFromHeader(req) !== 'alice') return false
        return params.courseId === '42' || prefix === '/books/1/'
      },
      onDecision: (decision) => { decisions.push(decision) }
    }))
    t.teardown(() => app.close())
    const grant = prober(app, asked, decisions)

    t.test('the owner is granted her course (the valid twin)', async (t) => {
      t.strictSame(await grant('/courses/42/'), {
        status: 200,
        outcome: 'resolved',
        paths: ['/courses/42/', '/courses/42/', '/courses/42/'],
        maxAge: [undefined, undefined, undefined],
        asked: [{ params: { courseId: '42' }, prefix: '/courses/42/' }],
        decisions: [],
        signed: 1
      })
    })

    for (const prefix of ['/', '/courses/']) {
      t.test(`"${prefix}" contains every course: refused, authorize not asked, nothing signed`, async (t) => {
        t.strictSame(await grant(prefix), refusal)
        t.strictSame(await grant(prefix, { user: 'bob' }), refusal)
      })

      t.test(`"${prefix}" with { authorized: true }: the handler has decided, it is granted`, async (t) => {
        const answer = await grant(prefix, { authorized: true })
        t.equal(answer.outcome, 'resolved')
        t.strictSame(answer.paths, [prefix, prefix, prefix])
        t.strictSame(answer.asked, [])
      })
    }

    t.test('a prefix no rule covers is asked of the global authorize, with no parameters', async (t) => {
      const granted = await grant('/books/1/')
      t.equal(granted.outcome, 'resolved')
      t.strictSame(granted.paths, ['/books/1/', '/books/1/', '/books/1/'])
      t.strictSame(granted.asked, [{ params: {}, prefix: '/books/1/' }])

      t.strictSame(await grant('/books/1/', { user: 'bob' }), {
        status: 200, outcome: 'null', paths: [], maxAge: [], asked: [{ params: {}, prefix: '/books/1/' }], decisions: [{ reason: 'not-authorized', prefix: '/books/1/' }], signed: 0
      })
      t.strictSame(await grant('/books/'), {
        status: 200, outcome: 'null', paths: [], maxAge: [], asked: [{ params: {}, prefix: '/books/' }], decisions: [{ reason: 'not-authorized', prefix: '/books/' }], signed: 0
      })
    })

    t.test('look-alike and non-canonical spellings are refused, even with { authorized: true }', async (t) => {
      for (const prefix of LOOK_ALIKES) {
        t.strictSame(await grant(prefix), refusal, prefix)
        t.strictSame(await grant(prefix, { authorized: true }), refusal, `${prefix}, authorized`)
      }
    })

    t.test('their valid twins: case and escapes where no rule spells the segment', async (t) => {
      for (const prefix of ['/Books/1/', '/caf%C3%A9/', '/books/a%20b/', '/books/a%3Bb/', '/books/v1./', '/' + 'a'.repeat(1022) + '/']) {
        const answer = await grant(prefix, { authorized: true })
        t.equal(answer.outcome, 'resolved', prefix)
        t.strictSame(answer.paths, [prefix, prefix, prefix], prefix)
      }
      // A parameter's value is the rule's to judge, case and all.
      t.strictSame((await grant('/courses/Ab-9/')).asked, [{ params: { courseId: 'Ab-9' }, prefix: '/courses/Ab-9/' }])
    })

    t.test('revoke(prefix) still takes any prefix, "/courses/" included', async (t) => {
      const answer = await grant('/courses/', { revoke: true })
      t.equal(answer.outcome, 'resolved')
      t.ok(answer.paths.length > 0)
      t.strictSame(new Set(answer.paths), new Set(['/courses/']))
      t.strictSame(new Set(answer.maxAge), new Set(['0']), 'cleared, never granted')
      t.equal(answer.signed, 0)
    })
  })

  t.test(`${host.name}, without any authorize`, async (t) => {
    const asked: Asked[] = []
    const decisions: GrantDecision[] = []
    // The rule says who may have its prefixes; no global authorize is left to ask for other prefixes.
    const app = await host.build(options({
      authorize: undefined,
      rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*', authorize: 'any-signed-in-user' }],
      onDecision: (decision) => { decisions.push(decision) }
    }))
    t.teardown(() => app.close())
    const grant = prober(app, asked, decisions)

    t.test('a prefix no rule covers has nobody to ask: refused unless the handler says { authorized: true }', async (t) => {
      t.strictSame(await grant('/books/1/'), refusal)
      const answer = await grant('/books/1/', { authorized: true })
      t.equal(answer.outcome, 'resolved')
      t.strictSame(answer.paths, ['/books/1/', '/books/1/', '/books/1/'])
    })

    t.test('a prefix the rule covers is granted as a request matching the rule would be', async (t) => {
      const answer = await grant('/courses/42/', { user: 'bob' })
      t.equal(answer.outcome, 'resolved')
      t.strictSame(answer.paths, ['/courses/42/', '/courses/42/', '/courses/42/'])
    })

    t.test('"/" and "/courses/" are refused here too', async (t) => {
      t.strictSame(await grant('/'), refusal)
      t.strictSame(await grant('/courses/'), refusal)
    })
  })
}
