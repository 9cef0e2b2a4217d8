// HAR files with a field of the wrong type: each is a coded error that names the field's path
// (log.entries[1].request.method), never a TypeError; the fields a HAR may leave out still read.
import t from 'tap'
import { diagnoseHar } from '../../src/api.js'
import { KEYS, NOW, setCookieLines } from './helpers.js'

const APP = 'https://app.example.com'
const SEGMENT = 'https://media.example.com/courses/42/seg-001.ts'
const lines = setCookieLines('Path=/courses/42/; Domain=example.com; Secure; HttpOnly; SameSite=Lax')
const cookie = lines.map((l) => l.slice(0, l.indexOf(';'))).join('; ')

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** A page that sets the cookies, then a segment CloudFront refused: the shape Chromium exports. */
function base (): { [key: string]: Json } {
  return {
    log: {
      version: '1.2',
      creator: { name: 'WebInspector', version: '537.36' },
      entries: [{
        startedDateTime: new Date(NOW - 5000).toISOString(),
        time: 12.5,
        request: { method: 'GET', url: `${APP}/courses/42`, httpVersion: 'h2', headers: [], cookies: [], queryString: [], headersSize: -1, bodySize: 0 },
        response: { status: 200, statusText: '', httpVersion: 'h2', headers: lines.map((value) => ({ name: 'set-cookie', value })), cookies: [{ name: 'CloudFront-Key-Pair-Id', value: 'K1', path: '/courses/42/', expires: null, httpOnly: true, secure: true }], content: { size: 0, mimeType: 'text/html' }, redirectURL: '', headersSize: -1, bodySize: -1 },
        cache: {},
        timings: { send: 0, wait: 10, receive: 2.5 }
      }, {
        startedDateTime: new Date(NOW).toISOString(),
        time: 20,
        request: { method: 'GET', url: SEGMENT, httpVersion: 'h2', headers: [{ name: 'Origin', value: APP }, { name: 'Cookie', value: cookie }, { name: 'Referer', value: `${APP}/courses/42` }], cookies: [{ name: 'CloudFront-Key-Pair-Id', value: 'K1' }], queryString: [], headersSize: -1, bodySize: 0 },
        response: { status: 403, statusText: '', httpVersion: 'h2', headers: [{ name: 'x-cache', value: 'Error from cloudfront' }, { name: 'access-control-allow-origin', value: APP }, { name: 'access-control-allow-credentials', value: 'true' }], cookies: [], content: { size: 40, mimeType: 'text/xml', text: '<Error><Code>AccessDenied</Code></Error>' }, redirectURL: '', headersSize: -1, bodySize: -1 },
        cache: {},
        timings: { send: 0, wait: 18, receive: 2 }
      }]
    }
  }
}

/** The HAR with the value at `path` replaced (undefined: removed). */
function withValue (path: Array<string | number>, value: Json | undefined): Json {
  const har = base()
  let at = har as Record<string | number, Json>
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, Json>
  const last = path[path.length - 1] as string | number
  if (value === undefined) delete at[last]
  else at[last] = value
  return har
}

const WRONG: Array<Json | undefined> = [undefined, null, true, 0, 42.5, '', 'GET', [], [1], {}, { name: 1 }]

function typeOf (value: Json | undefined): string {
  return value === undefined ? 'undefined' : value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
}

t.test('the valid file and what a HAR may leave out', async (t) => {
  t.same(diagnoseHar(base(), { keys: KEYS }).findings.map((f) => f.code).slice(0, 1), ['CLOUDFRONT_ACCESS_DENIED'])
  const e = ['log', 'entries', 1]
  for (const [path, value, why] of [
    [[...e, 'response', 'content'], undefined, 'no content'],
    [[...e, 'response', 'content', 'text'], undefined, 'no body text'],
    [[...e, 'request', 'cookies'], undefined, 'no cookies array'],
    [[...e, 'response', 'cookies'], undefined, 'no response cookies array'],
    [[...e, 'time'], 'x', 'a field the doctor does not read'],
    [[...e, 'request', 'url'], 'data:text/plain,hi', 'a data: URL (skipped)'],
    [[...e, 'response', 'status'], 0, 'status 0, as devtools write a request without response'],
    [[...e, 'response', 'status'], -1, 'status -1, as Playwright writes it']
  ] as Array<[Array<string | number>, Json | undefined, string]>) {
    t.doesNotThrow(() => diagnoseHar(withValue(path, value)), why)
  }
})

t.test('the wrong type in each field the doctor reads: a coded error naming the path', async (t) => {
  const fields: Array<[Array<string | number>, Array<Json | undefined>]> = [
    [['log', 'entries', 1, 'startedDateTime'], [undefined, null, 0, true, [], {}, '', 'yesterday']],
    [['log', 'entries', 1, 'request'], [undefined, null, 'GET', 1, []]],
    [['log', 'entries', 1, 'request', 'method'], [undefined, null, 42, true, [], {}]],
    [['log', 'entries', 1, 'request', 'url'], [undefined, null, 42, [], {}]],
    [['log', 'entries', 1, 'request', 'headers'], [undefined, null, 'Cookie: a=b', {}, 3]],
    [['log', 'entries', 1, 'request', 'headers', 0], [null, 'Origin', [], 7]],
    [['log', 'entries', 1, 'request', 'headers', 1, 'name'], [undefined, null, 1, ['Cookie']]],
    [['log', 'entries', 1, 'request', 'headers', 1, 'value'], [undefined, null, 1, { a: 'b' }]],
    [['log', 'entries', 1, 'request', 'cookies'], [null, 'a=b', {}]],
    [['log', 'entries', 1, 'request', 'cookies', 0, 'value'], [null, 1]],
    [['log', 'entries', 1, 'response'], [undefined, null, 403, []]],
    [['log', 'entries', 1, 'response', 'status'], [undefined, null, '403', 403.5, true, []]],
    [['log', 'entries', 1, 'response', 'headers'], [undefined, null, 'x-cache: Error', {}]],
    [['log', 'entries', 1, 'response', 'headers', 0, 'name'], [null, 5]],
    [['log', 'entries', 1, 'response', 'headers', 0, 'value'], [null, 5]],
    [['log', 'entries', 0, 'response', 'cookies'], [null, 'x', {}]],
    [['log', 'entries', 0, 'response', 'cookies', 0, 'name'], [undefined, 1]],
    [['log', 'entries', 1, 'response', 'content'], [null, 'text', []]],
    [['log', 'entries', 1, 'response', 'content', 'text'], [null, 5, {}]],
    [['log', 'entries', 1, 'response', 'content', 'encoding'], [null, 64]],
    [['log', 'entries', 1, 'response', '_failureText'], [null, 1]],
    [['log', 'entries', 1, 'response', '_error'], [null, {}]],
    [['log', 'entries', 1], [null, 'entry', 5, []]],
    [['log', 'entries'], [undefined, null, {}, 'entries', 2]]
  ]
  for (const [path, values] of fields) {
    // log.entries[1].request.method, as the message writes it.
    const name = path.reduce<string>((s, k) => typeof k === 'number' ? `${s}[${k}]` : s === '' ? k : `${s}.${k}`, '')
    for (const value of values) {
      t.throws(() => diagnoseHar(withValue(path, value), { keys: KEYS }), { code: 'FST_ERR_CF_INVALID_OPTION', message: `Invalid option har: ${name}:` }, `${name} = ${JSON.stringify(value) ?? 'missing'}`)
    }
  }
})

t.test('not a HAR at all', async (t) => {
  for (const value of [null, undefined, 'log', 42, true, [], [{ log: {} }], {}, { log: null }, { log: [] }, { log: 'x' }, { entries: [] }]) {
    t.throws(() => diagnoseHar(value), { code: 'FST_ERR_CF_INVALID_OPTION', message: /^Invalid option har: expected a HAR file: \{ "log": \{ "entries": \[\.\.\.\] \} \}/ }, JSON.stringify(value) ?? 'undefined')
  }
  t.throws(() => diagnoseHar(base(), { now: Number.NaN }), { code: 'FST_ERR_CF_INVALID_OPTION', message: /now: expected epoch milliseconds/ })
  t.throws(() => diagnoseHar(base(), { clientIp: 42 as unknown as string }), { code: 'FST_ERR_CF_INVALID_OPTION', message: /clientIp/ })
})

t.test('every field of the file replaced by every wrong type: a report or a coded error, never a crash', async (t) => {
  const paths: Array<Array<string | number>> = []
  const walk = (node: Json, path: Array<string | number>): void => {
    paths.push(path)
    if (Array.isArray(node)) node.forEach((v, i) => walk(v, [...path, i]))
    else if (node !== null && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, [...path, k])
  }
  walk(base(), [])
  let coded = 0
  let reports = 0
  for (const path of paths.slice(1)) {
    for (const value of WRONG) {
      try {
        diagnoseHar(withValue(path, value), { keys: KEYS })
        reports++
      } catch (err) {
        const e = err as { code?: string, message: string }
        if (e.code !== 'FST_ERR_CF_INVALID_OPTION' || !e.message.startsWith('Invalid option har: ')) t.fail(`${path.join('.')} = ${typeOf(value)}: ${e.message}`)
        coded++
      }
    }
  }
  t.ok(coded > 100 && reports > 100, `${coded} coded errors, ${reports} reports`)
})
