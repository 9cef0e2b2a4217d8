// An independent statement of what the rewrite must produce, line by line, used to check it on
// playlists of every shape: each line is the input line with its URI (if any) replaced, and
// nothing else changed.

export const DIST = 'https://media.example.com'
export const QUERY = 'Policy=eyJTdGF0ZW1lbnQiOlt7IlJlc291cmNlIjoiaHR0cHM6Ly9tZWRpYS5leGFtcGxlLmNvbS9jb3Vyc2VzLzQyLyoifV19&Signature=abc~def-ghi_&Key-Pair-Id=K2JCJMDEHXQW5F'

export interface Ctx {
  playlistPath: string
  distribution: string
  prefix: string
  mirror: string
}

const MEDIA_TAGS = ['EXT-X-MAP', 'EXT-X-KEY', 'EXT-X-SESSION-KEY', 'EXT-X-PART', 'EXT-X-PRELOAD-HINT', 'EXT-X-SESSION-DATA']
const PLAYLIST_TAGS = ['EXT-X-MEDIA', 'EXT-X-I-FRAME-STREAM-INF', 'EXT-X-RENDITION-REPORT']

/** What one URI becomes: `'media'` ones are signed in the prefix, `'playlist'` ones go to the mirror. */
export function expectedUri (uri: string, kind: 'media' | 'playlist', ctx: Ctx, query: string): string {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase()
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return uri
  const url = new URL(uri, ctx.distribution + ctx.playlistPath)
  const hashAt = uri.indexOf('#')
  const fragment = hashAt === -1 ? '' : uri.slice(hashAt)
  const beforeHash = hashAt === -1 ? uri : uri.slice(0, hashAt)
  const qAt = beforeHash.indexOf('?')
  const q = qAt === -1 ? '' : beforeHash.slice(qAt)
  const origin = new URL(ctx.distribution).origin
  if (url.origin !== origin) return uri
  if (kind === 'playlist') return ctx.mirror + url.pathname + q + fragment
  if (!url.pathname.startsWith(ctx.prefix)) return origin + url.pathname + q + fragment
  if (/[?&](Policy|Signature|Key-Pair-Id|Expires|Hash-Algorithm)=/i.test(q)) return origin + url.pathname + q + fragment
  return origin + url.pathname + (q === '' || q === '?' ? '?' : q + '&') + query + fragment
}

/** The whole expected output, from the input. */
export function expectedPlaylist (input: string, ctx: Ctx, query: string): string {
  const lines = input.split('\n')
  let variant = false
  return lines.map((line) => {
    const cr = line.endsWith('\r') ? '\r' : ''
    const body = cr ? line.slice(0, -1) : line
    if (body.startsWith('#')) {
      const name = /^#([A-Z0-9-]+)/.exec(body)?.[1] ?? ''
      if (name === 'EXT-X-STREAM-INF') variant = true
      const kind = MEDIA_TAGS.includes(name) ? 'media' : PLAYLIST_TAGS.includes(name) ? 'playlist' : null
      if (kind === null) return line
      // URI="..." as an attribute (after ":" or ","), never inside another quoted value.
      return body.replace(/([:,])URI="([^"]*)"/, (_m, sep: string, uri: string) => `${sep}URI="${expectedUri(uri, kind, ctx, query)}"`) + cr
    }
    const uri = body.trim()
    if (uri === '') return line
    const kind = variant ? 'playlist' : 'media'
    variant = false
    const at = body.indexOf(uri)
    return body.slice(0, at) + expectedUri(uri, kind, ctx, query) + body.slice(at + uri.length) + cr
  }).join('\n')
}
