// The hls.js side of the keep-alive: a loader class that answers a CDN's 403 with one refresh and one retry.
// hls.js is not a dependency: the page hands over its own loader class (Hls.DefaultConfig.loader).

/** The part of an hls.js loader (`Hls.DefaultConfig.loader`) that `hlsLoader()` relies on. */
export interface HlsLoaderLike {
  context: unknown
  stats: { loading: { start: number, first: number, end: number }, loaded: number, aborted: boolean }
  load (context: unknown, config: unknown, callbacks: HlsLoaderCallbacks): void
  abort (): void
  destroy (): void
  getCacheAge?: () => number | null
  getResponseHeader?: (name: string) => string | null
}

export interface HlsLoaderCallbacks {
  onError (error: { code: number, text: string }, context: unknown, networkDetails: unknown, stats: unknown): void
}

export type HlsLoaderClass = new (config: any) => HlsLoaderLike

/**
 * Wraps `Base` so that a request answered 403 calls `refresh()` once and, when it resolves true, loads again
 * once; any other outcome reaches hls.js unchanged.
 */
export function refreshingLoader<C extends HlsLoaderClass> (Base: C, refresh: () => Promise<boolean>): C {
  class RefreshingLoader {
    private inner: HlsLoaderLike
    private done = false
    private readonly hlsConfig: unknown

    constructor (hlsConfig: unknown) {
      this.hlsConfig = hlsConfig
      this.inner = new Base(hlsConfig)
    }

    get context (): unknown { return this.inner.context }
    get stats (): HlsLoaderLike['stats'] { return this.inner.stats }
    getCacheAge (): number | null { return this.inner.getCacheAge?.() ?? null }
    getResponseHeader (name: string): string | null { return this.inner.getResponseHeader?.(name) ?? null }

    abort (): void {
      this.done = true
      this.inner.abort()
    }

    destroy (): void {
      this.done = true
      this.inner.destroy()
    }

    load (context: unknown, config: unknown, callbacks: HlsLoaderCallbacks): void {
      let retried = false
      const wrapped: HlsLoaderCallbacks = {
        ...callbacks,
        onError: (error, errorContext, networkDetails, stats) => {
          if (error.code !== 403 || retried || this.done) {
            callbacks.onError(error, errorContext, networkDetails, stats)
            return
          }
          retried = true
          refresh().then((granted) => {
            if (this.done) return
            if (!granted) {
              callbacks.onError(error, errorContext, networkDetails, stats)
              return
            }
            // hls.js loaders load once, and hls.js keeps a reference to their stats: a new loader, same stats.
            const kept = this.inner.stats
            this.inner.destroy()
            kept.loading.start = kept.loading.first = kept.loading.end = 0
            kept.loaded = 0
            kept.aborted = false
            this.inner = new Base(this.hlsConfig)
            this.inner.stats = kept
            this.inner.load(context, config, wrapped)
          })
        }
      }
      this.inner.load(context, config, wrapped)
    }
  }
  return RefreshingLoader as unknown as C
}
