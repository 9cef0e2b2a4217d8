import { LRUCache } from 'lru-cache'
import { FST_ERR_CF_PLAYLIST_BUSY, FST_ERR_CF_PLAYLIST_NOT_FOUND } from '../errors.js'
import type { CompiledPlaylist } from './rewrite.js'
import type { PlaylistLoader } from './origin.js'

// The source playlists, compiled, by CDN path. A VOD or master playlist never changes, so it is
// kept until evicted; a live one is loaded again once its target duration has passed (a dynamic
// MPD: its minimumUpdatePeriod), which is how often players reload it. Concurrent requests for a
// playlist being loaded share the load.

export interface SourceSettings {
  /** Most playlists kept. */
  max: number
  /** Most bytes kept (the compiled text). */
  maxBytes: number
  /** Most loads from the origin at once. */
  maxLoads: number
  now: () => number
}

interface Source {
  compiled: CompiledPlaylist
  /** When it was loaded (ms). */
  at: number
  /** When a live playlist must be loaded again (ms); Infinity for an immutable one. */
  until: number
}

export interface SourceStats {
  /** Loads from the origin. */
  loads: number
  /** Requests served from a kept playlist. */
  hits: number
  /** Playlists kept. */
  size: number
}

function sizeOf (source: Source): number {
  // The text and its UTF-8 copy.
  let n = 64 + source.compiled.bytes
  for (const c of source.compiled.chunks) n += c.length
  return n
}

export class PlaylistSources {
  private readonly cache: LRUCache<string, Source>
  private readonly inflight = new Map<string, Promise<CompiledPlaylist>>()
  private loads = 0
  private hits = 0

  constructor (
    private readonly load: PlaylistLoader,
    private readonly compile: (
      cdnPath: string,
      text: string,
      prefix: string
    ) => CompiledPlaylist | Promise<CompiledPlaylist>,
    private readonly settings: SourceSettings
  ) {
    this.cache = new LRUCache<string, Source>({
      max: settings.max,
      maxSize: settings.maxBytes,
      sizeCalculation: sizeOf
    })
  }

  /** The compiled playlist when one is kept and fresh: the path that needs no promise. */
  fresh (cdnPath: string): CompiledPlaylist | undefined {
    const source = this.cache.get(cdnPath)
    if (source === undefined || this.settings.now() >= source.until) return undefined
    this.hits++
    return source.compiled
  }

  /**
   * The compiled playlist, kept or loaded and compiled for `prefix` (the grant covering the path,
   * always the same one for a path). Rejects with FST_ERR_CF_PLAYLIST_NOT_FOUND when the origin has none.
   */
  get (cdnPath: string, prefix: string): CompiledPlaylist | Promise<CompiledPlaylist> {
    const kept = this.fresh(cdnPath)
    if (kept !== undefined) return kept
    let running = this.inflight.get(cdnPath)
    if (running === undefined) {
      // Each load may hold up to maxBytes and its compiled text: the total is bounded here.
      if (this.inflight.size >= this.settings.maxLoads) {
        throw new FST_ERR_CF_PLAYLIST_BUSY(`${this.settings.maxLoads} playlists are being loaded already ` +
          '(playlists.maxLoads); try again shortly')
      }
      running = this.fetch(cdnPath, prefix).finally(() => this.inflight.delete(cdnPath))
      this.inflight.set(cdnPath, running)
    }
    return running
  }

  private async fetch (cdnPath: string, prefix: string): Promise<CompiledPlaylist> {
    this.loads++
    const at = this.settings.now()
    const text = await this.load(cdnPath)
    if (text === null) throw new FST_ERR_CF_PLAYLIST_NOT_FOUND(cdnPath)
    const compiled = await this.compile(cdnPath, text, prefix)
    const until = compiled.immutable ? Infinity : at + Math.max(1, compiled.targetDuration) * 1000
    this.cache.set(cdnPath, { compiled, at, until })
    return compiled
  }

  stats (): SourceStats {
    return { loads: this.loads, hits: this.hits, size: this.cache.size }
  }
}
