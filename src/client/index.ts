// fastify-cloudfront-cookies/client: keeps a page's signed-cookie grant alive, in the browser.
// No dependencies, no Node APIs: it is served to browsers as it is built (dist/esm/client/).
import { refreshingLoader, type HlsLoaderClass } from './hls.js'

export type { HlsLoaderCallbacks, HlsLoaderClass, HlsLoaderLike } from './hls.js'

/** What the app's answer said about the grant. */
export type GrantState = 'granted' | 'renewed' | 'refused' | 'signed-out'

export interface GrantChange {
  /**
   * `granted`: the first answer carrying a grant. `renewed`: a later answer carrying a new grant (another expiry).
   * `refused`: the app answered 403, another 4xx, or a 2xx without a grant. `signed-out`: the app answered 401.
   * After `refused` and `signed-out` the keep-alive has stopped.
   */
  state: GrantState
  /** The grant's end in epoch seconds: the new one, or for `refused` and `signed-out` the last one known (or null). */
  expires: number | null
  /** The HTTP status of the answer. */
  status: number
}

export interface KeepGrantAliveOptions {
  /** The app's route that grants again (it answers with the expiry header), e.g. `/courses/42/progress`. */
  url: string | URL
  /**
   * `fetch` options, or a function returning them for each request (to send the playback position, say).
   * Default `{ method: 'POST' }`; `credentials` is fetch's default, `same-origin`.
   */
  request?: RequestInit | (() => RequestInit)
  /** The response header with the grant's end in epoch seconds. Default `cloudfront-grant-expires`. */
  expiresHeader?: string
  /** Called on every change of state, never after `stop()`. */
  onChange?: (change: GrantChange) => void
  /** Aborting it stops the keep-alive. */
  signal?: AbortSignal
}

export interface GrantKeepAlive {
  /** The last state reported, or null before the first answer. */
  readonly state: GrantState | null
  /** The current grant's end in epoch seconds, or null. */
  readonly expires: number | null
  /** True once `stop()` was called, the signal aborted, or the app refused or signed the user out. */
  readonly stopped: boolean
  /**
   * Asks the app now (joining a request already under way). Resolves true when the app answered with a grant,
   * false otherwise; never rejects. After a transient failure (network, 408, 429, 5xx) it tries again later by itself.
   */
  refresh (): Promise<boolean>
  /**
   * Wraps an hls.js loader class (`Hls.DefaultConfig.loader`): a request the CDN answers 403 triggers one refresh,
   * then, if the app granted, one retry; otherwise hls.js receives the 403 as usual.
   */
  hlsLoader<C extends HlsLoaderClass> (Base: C): C
  /** Stops timers, listeners and any request under way. No callback runs afterwards. */
  stop (): void
}

// Timers stop counting while a computer sleeps, and background tabs run them late: never wait longer than
// this between two looks at the wall clock.
const HEARTBEAT_MS = 5_000
const MIN_DELAY_MS = 1_000
const RETRY_MIN_MS = 1_000
const RETRY_MAX_MS = 30_000
const REQUEST_TIMEOUT_MS = 30_000

// A browser bundle: the library's coded option errors (Node's) are not available here.
function misuse (what: string): TypeError {
  return new TypeError(`keepGrantAlive: ${what}`)
}

function checkOptions (options: KeepGrantAliveOptions): void {
  if (typeof options !== 'object' || options === null) throw misuse('expected an options object, { url, onChange? }')
  const { url, request, expiresHeader, onChange } = options
  if (!(url instanceof URL) && (typeof url !== 'string' || url === '')) {
    throw misuse('options.url must be the URL of the app route that grants again, e.g. "/courses/42/progress"')
  }
  if (request !== undefined && (typeof request !== 'object' || request === null) && typeof request !== 'function') {
    throw misuse('options.request must be fetch options or a function returning them')
  }
  if (expiresHeader !== undefined && (typeof expiresHeader !== 'string' ||
    !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(expiresHeader))) {
    throw misuse('options.expiresHeader must be a header name, e.g. "cloudfront-grant-expires"')
  }
  if (onChange !== undefined && typeof onChange !== 'function') throw misuse('options.onChange must be a function')
  if (options.signal !== undefined &&
    !(options.signal instanceof AbortSignal)) throw misuse('options.signal must be an AbortSignal')
}

/** Asks the app route once; undefined when the request fails or times out (a network error, an abort). */
async function requestGrant (url: string | URL, init: RequestInit | undefined,
  own: AbortController): Promise<Response | undefined> {
  const timeout = setTimeout(() => own.abort(), REQUEST_TIMEOUT_MS)
  try {
    const response = await fetch(url, { method: 'POST', cache: 'no-store', ...init, signal: own.signal })
    // Read to the end, so that the request completes and its connection is free again.
    await response.arrayBuffer()
    return response
  } catch {
    return undefined
  } finally {
    clearTimeout(timeout)
  }
}

/** The new expiry a granting response announces, and how long it has left; null when it announces none. */
function announcedExpiry (response: Response, header: string, now: number): {
  expires: number,
  lifetime: number
} | null {
  const expires = Number(response.headers.get(header))
  // The lifetime is measured on the server's clock (its Date header), so a wrong clock in the browser does not
  // shift the schedule; without the header (a cross-origin route), the browser's clock.
  const serverNow = Date.parse(response.headers.get('date') ?? '')
  const lifetime = expires * 1000 - (Number.isNaN(serverNow) ? now : serverNow)
  return !Number.isSafeInteger(expires) || expires <= 0 || lifetime <= 0 ? null : { expires, lifetime }
}

/**
 * Asks again when the page wakes (visible, resumed, restored from the back-forward cache, online); returns the undo.
 */
function onPageWake (refresh: () => unknown): () => void {
  const onVisible = (): void => { if (document.visibilityState === 'visible') refresh() }
  const onPageShow = (event: PageTransitionEvent): void => { if (event.persisted) refresh() }
  const onWake = (): void => { refresh() }
  const hasDocument = typeof document !== 'undefined'
  if (hasDocument) {
    document.addEventListener('visibilitychange', onVisible)
    // Page Lifecycle: a frozen background tab is resumed without becoming visible.
    document.addEventListener('resume', onWake)
    globalThis.addEventListener('pageshow', onPageShow)
  }
  globalThis.addEventListener('online', onWake)
  return () => {
    if (hasDocument) {
      document.removeEventListener('visibilitychange', onVisible)
      document.removeEventListener('resume', onWake)
      globalThis.removeEventListener('pageshow', onPageShow)
    }
    globalThis.removeEventListener('online', onWake)
  }
}

/**
 * Keeps the grant of `options.url` alive: asks the app at once, then again halfway to each expiry (the app signs a
 * new set only when the current one is close to its end), after the computer slept, when the tab becomes visible
 * again, when the browser comes back online, and once when the CDN answers 403 (see `hlsLoader`).
 */
export function keepGrantAlive (options: KeepGrantAliveOptions): GrantKeepAlive {
  checkOptions(options)
  const { url, onChange, signal } = options
  const header = options.expiresHeader ?? 'cloudfront-grant-expires'

  let state: GrantState | null = null
  let expires: number | null = null
  let stopped = false
  let dueAt = 0
  let failures = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  let inFlight: Promise<boolean> | null = null
  let controller: AbortController | null = null
  let unlisten = (): void => {}

  function report (next: GrantState, status: number): void {
    state = next
    if (onChange === undefined) return
    try {
      onChange({ state: next, expires, status })
    } catch (err) {
      // The page's callback failing must not break the keep-alive: report it as an uncaught error.
      setTimeout(() => { throw err })
    }
  }

  function arm (): void {
    clearTimeout(timer)
    if (!stopped) timer = setTimeout(tick, Math.max(0, Math.min(dueAt - Date.now(), HEARTBEAT_MS)))
  }

  function tick (): void {
    if (Date.now() >= dueAt) refresh()
    else arm()
  }

  function end (final: 'refused' | 'signed-out', status: number): false {
    teardown()
    report(final, status)
    return false
  }

  function later (): false {
    failures++
    dueAt = Date.now() + Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (failures - 1))
    arm()
    return false
  }

  function renewed (next: { expires: number, lifetime: number }, now: number, status: number): true {
    failures = 0
    const previous = expires
    expires = next.expires
    dueAt = now + Math.max(MIN_DELAY_MS, next.lifetime / 2)
    arm()
    if (previous === null) report('granted', status)
    else if (next.expires !== previous) report('renewed', status)
    return true
  }

  async function ask (): Promise<boolean> {
    const init = typeof options.request === 'function' ? options.request() : options.request
    const own = new AbortController()
    controller = own
    const response = await requestGrant(url, init, own)
    controller = null
    if (stopped) return false
    if (response === undefined) return later()
    const status = response.status
    if (status === 401) return end('signed-out', status)
    if (status === 408 || status === 429 || status >= 500) return later()
    if (status < 200 || status > 299) return end('refused', status)
    const now = Date.now()
    const next = announcedExpiry(response, header, now)
    return next === null ? end('refused', status) : renewed(next, now, status)
  }

  function refresh (): Promise<boolean> {
    if (stopped) return Promise.resolve(false)
    if (inFlight === null) {
      clearTimeout(timer)
      inFlight = ask().finally(() => { inFlight = null })
    }
    return inFlight
  }

  function teardown (): void {
    stopped = true
    clearTimeout(timer)
    unlisten()
    signal?.removeEventListener('abort', stop)
  }

  function stop (): void {
    if (stopped) return
    teardown()
    controller?.abort()
  }

  const api: GrantKeepAlive = {
    get state () { return state },
    get expires () { return expires },
    get stopped () { return stopped },
    refresh,
    hlsLoader: (Base) => refreshingLoader(Base, refresh),
    stop
  }

  if (signal?.aborted === true) {
    stopped = true
    return api
  }
  signal?.addEventListener('abort', stop, { once: true })
  unlisten = onPageWake(refresh)
  refresh()
  return api
}
