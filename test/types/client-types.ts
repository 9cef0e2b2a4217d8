// Type tests of fastify-cloudfront-cookies/client, checked with the DOM's types (tsconfig.client-test.json):
// the loader hook accepts hls.js's own loader class and gives back one hls.js accepts.
import Hls from 'hls.js'
import { keepGrantAlive, type GrantChange, type GrantKeepAlive, type GrantState } from '../../src/client/index.js'

const keepAlive: GrantKeepAlive = keepGrantAlive({
  url: '/courses/42/progress',
  request: () => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ position: 12 }) }),
  onChange (change: GrantChange) {
    const state: GrantState = change.state
    const expires: number | null = change.expires
    console.log(state, expires, change.status)
  },
  signal: new AbortController().signal
})
keepGrantAlive({ url: new URL('https://app.example.com/keep-alive'), request: { method: 'GET', credentials: 'include' } })

const hls = new Hls({ loader: keepAlive.hlsLoader(Hls.DefaultConfig.loader) })
hls.loadSource('https://media.example.com/courses/42/index.m3u8')
const granted: Promise<boolean> = keepAlive.refresh()
console.log(granted, keepAlive.state, keepAlive.expires, keepAlive.stopped)
keepAlive.stop()

// @ts-expect-error the URL is required
keepGrantAlive({})
// @ts-expect-error states are a closed set
const wrong: GrantState = 'expired'
console.log(wrong)
// @ts-expect-error not a loader class
keepAlive.hlsLoader(class {})
