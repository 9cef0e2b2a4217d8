// What the client tests share: Debian's Chromium through playwright-core, the browser module served as
// browsers load it, and an app with the real plugin whose clock the test moves with the page's fake one.
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, resolve } from 'node:path'
import { Readable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import ts from 'typescript'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { Test } from 'tap'
import fastifyCloudfrontCookies from '../../src/index.js'
import { createEdgeServer } from '../../src/edge/index.js'
import { findBrowser } from '../helpers/browser.js'

/** The browser the client tests drive (CHROMIUM_PATH, then the usual names). */
export const BROWSER = findBrowser()
export const ROOT = resolve(__dirname, '..', '..')
export const KEY_PAIR_ID = 'K2JCJMDEHXQW5F'

export function launch (extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: BROWSER.path,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', ...extraArgs
    ],
    timeout: 60_000
  })
}

/**
 * The browser module's files, as a browser gets them: under `npm test` (CF_TEST_DIST=1) the build in
 * dist/esm/client; otherwise src/client transpiled, the way tsc builds it.
 */
export function clientFile (name: string): string | undefined {
  if (!/^[a-z]+\.js$/.test(name)) return undefined
  if (process.env.CF_TEST_DIST === '1') {
    const built = join(ROOT, 'dist', 'esm', 'client', name)
    return existsSync(built) ? readFileSync(built, 'utf8') : undefined
  }
  const source = join(ROOT, 'src', 'client', name.replace(/\.js$/, '.ts'))
  if (!existsSync(source)) return undefined
  return ts.transpileModule(readFileSync(source, 'utf8'), {
    compilerOptions: { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.ES2020 }
  }).outputText
}

export function registerClientFiles (app: FastifyInstance, base = '/client/'): void {
  app.get<{ Params: { file: string } }>(`${base}:file`, async (request, reply) => {
    const text = clientFile(request.params.file)
    if (text === undefined) return reply.code(404).send('no such file')
    return reply.type('text/javascript; charset=utf-8').send(text)
  })
}

export function ecdsaKey (): { privateKey: string, publicKey: string } {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return {
    privateKey: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()
  }
}

/** How the app answers the keep-alive route, set by the test between steps. */
export interface Control {
  /** The signed-in user, or null (the route then answers 401). */
  user: string | null
  /** Answer this status instead of granting (403, 503...). */
  status: number
  /** Answer 200 without granting anything. */
  noGrant: boolean
  /** Send the body's end this many milliseconds after its start. */
  slowBody: number
  /** The prefix the route grants. */
  prefix: string
}

export interface GrantRequest {
  /** The app's clock when it answered (ms). */
  at: number
  body: string
  /** The expiry the answer carried, if any. */
  expires: number | undefined
  /** When the last byte of the body was sent (real ms). */
  bodyEnd?: number
}

export interface KeepAliveApp {
  app: FastifyInstance
  url: string
  control: Control
  requests: GrantRequest[]
  /** The app's clock (ms): the plugin's `now` and the Date header. */
  clock: { now: number }
  /** The public key of the app's signing key, for an edge. */
  publicKey: string
}

/**
 * An app with the real plugin: POST /grant grants `control.prefix` to `control.user` (a route that checks
 * who asks, as a keep-alive route must), GET / is an empty page, /client/* the browser module.
 */
export async function keepAliveApp (options: { ttl?: number, distribution?: string, extra?: (app: FastifyInstance) => void } = {}): Promise<KeepAliveApp> {
  const { privateKey, publicKey } = ecdsaKey()
  const control: Control = { user: 'ada', status: 200, noGrant: false, slowBody: 0, prefix: '/media/' }
  const requests: GrantRequest[] = []
  const clock = { now: Date.now() }
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, {
    keyPairId: KEY_PAIR_ID,
    privateKey,
    distribution: options.distribution ?? 'http://localhost',
    getUser: () => control.user,
    ttl: options.ttl ?? 60,
    now: () => clock.now
  })
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => { done(null, body) })
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('date', new Date(clock.now).toUTCString())
    return payload
  })
  app.get('/', async (_request, reply) => reply.type('text/html').send('<!doctype html><title>keep-alive</title><body></body>'))
  registerClientFiles(app)
  app.post('/grant', async (request, reply) => {
    const seen: GrantRequest = { at: clock.now, body: String(request.body ?? ''), expires: undefined }
    requests.push(seen)
    if (control.user === null) return reply.code(401).send({ error: 'Sign in first' })
    if (control.status !== 200) return reply.code(control.status).send({ error: 'No' })
    if (control.noGrant) return { ok: true }
    // The route has checked who asks: no rule covers the prefix, so it says so.
    const grant = await reply.cloudfront.grant(control.prefix, { authorized: true })
    seen.expires = grant?.expires
    if (control.slowBody === 0) return { expires: grant?.expires }
    const delay = control.slowBody
    const body = new Readable({ read () {} })
    body.push('{"expires":')
    setTimeout(() => {
      body.push(`${grant?.expires}}`)
      body.push(null)
      seen.bodyEnd = Date.now()
    }, delay)
    return reply.type('application/json').send(body)
  })
  options.extra?.(app)
  await app.listen({ port: 0, host: 'localhost' })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return { app, url: `http://localhost:${port}`, control, requests, clock, publicKey }
}

/** Polls a condition until it holds; fails with `what` after `timeout` ms. */
export async function until (what: string, condition: () => boolean | Promise<boolean>, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

export function pause (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Headless Chromium reports every page as visible, whatever tab is in front: the page's visibility is set
 * here as a browser sets it, and the same event dispatched.
 */
export function setVisibility (page: Page, state: 'visible' | 'hidden'): Promise<unknown> {
  return page.evaluate(`(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => ${JSON.stringify(state)} })
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => ${state === 'hidden'} })
    document.dispatchEvent(new Event('visibilitychange'))
  })()`)
}

/**
 * The app with the real plugin and the local edge in front of `root`, each knowing the other: the app signs
 * for the edge's URL and the edge lets the app's pages read it (credentialed CORS), so the edge's port comes
 * first. The app grants `owned`; its clock follows the real one. `extra` adds the test's pages to the app.
 */
export async function cookieStack (t: Test, options: { root: string, owned: string, extra?: (app: FastifyInstance, edgeUrl: string) => void }): Promise<{ server: KeepAliveApp, edgeUrl: string }> {
  const socket = createServer()
  await new Promise<void>((resolve) => socket.listen(0, 'localhost', resolve))
  t.teardown(() => new Promise<void>((resolve) => { socket.close(() => resolve()); socket.closeAllConnections() }))
  const edgeUrl = `http://localhost:${(socket.address() as AddressInfo).port}`
  const server = await keepAliveApp({
    ttl: 600, // no scheduled refresh during the test: every refresh seen comes from a 403
    distribution: edgeUrl,
    extra: (app) => options.extra?.(app, edgeUrl)
  })
  t.teardown(() => server.app.close())
  server.control.prefix = options.owned
  server.clock.now = Date.now()
  // The plugin's clock is the test's; here it follows the real one.
  const ticking = setInterval(() => { server.clock.now = Date.now() }, 50)
  t.teardown(() => clearInterval(ticking))
  const edge = await createEdgeServer({
    keys: { [KEY_PAIR_ID]: server.publicKey },
    origin: { root: options.root },
    cors: { origins: [server.url] }
  }, { serverFactory: (handler) => socket.on('request', handler) })
  t.teardown(() => edge.close())
  await edge.ready()
  return { server, edgeUrl }
}
