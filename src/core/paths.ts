import { FST_ERR_CF_INVALID_PARAM } from './errors.js'
import { RAW_PATH_RE } from './url.js'

// Request paths that an origin may be asked for. Shared by the playlist mirror and the local edge,
// so both refuse the same spellings: an origin (S3, a file server, fetch's URL parser) resolves dot
// segments and decodes escapes, and would answer another prefix's file for a path whose raw text a
// rule or a signature saw as inside the grant.

// C0 controls, DEL and C1 controls, raw or once percent-decoded: no media path holds one.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/

/**
 * Whether an origin can be asked for this raw path without it resolving to another file: after
 * percent-decoding there must be no `.` or `..` segment (counting `\` and encoded `/` as
 * separators), no control character, and no broken escape. A grant for `/courses/42/*` covers the
 * raw `/courses/42/%2e%2e/43/x`, exactly as at CloudFront; refusing such paths keeps the origins
 * from serving course 43 for it.
 */
export function isSafeOriginPath (rawPath: string): boolean {
  if (!rawPath.includes('%') && !rawPath.includes('/.') && !rawPath.includes('\\') &&
    !CONTROL_RE.test(rawPath)) return true
  let decoded: string
  try {
    decoded = decodeURIComponent(rawPath)
  } catch {
    return false
  }
  if (CONTROL_RE.test(decoded)) return false
  for (const seg of decoded.split(/[/\\]/)) {
    if (DOTS_RE.test(seg)) return false
  }
  return true
}

// `.` and `..`, and what some origins read as them: `...`, `.. ` (Windows drops trailing dots and
// spaces), `..;x` (Tomcat and Spring drop a `;` parameter).
const DOTS_RE = /^[.\s]*\.[.\s]*(?:;.*)?$/

// A raw CDN path holds RFC 3986 path characters and well-formed escapes only (RAW_PATH_RE): `\`, `#`,
// `?`, spaces, quotes, braces and anything beyond ASCII are refused rather than guessed at.
// An escape of a character that needs none (`%6F` for `o`): one file would have many spellings, each
// a load and a compile of its own in the mirror's caches, and some origins decode them.
const NEEDLESS_ESCAPE_RE = /%(?:[46][1-9A-Fa-f]|[57][0-9Aa]|3[0-9]|2[DEde]|5[Ff]|7[Ee])/

/** Whether a raw path is one the mirror and its origins read exactly as written (see checkOriginPath). */
export function isCdnPath (rawPath: string): boolean {
  return RAW_PATH_RE.test(rawPath) && !NEEDLESS_ESCAPE_RE.test(rawPath) && isSafeOriginPath(rawPath)
}

/**
 * Checks a raw CDN path that the app is about to look up and fetch for a request. Throws
 * FST_ERR_CF_INVALID_PARAM (400) for a path with a dot segment once percent-decoded (`\`, `%2F` and
 * `%5C` count as separators; `...`, `.. ` and `..;x` count as dots), a backslash, a raw `#`, a control
 * character, an escape of a character that needs none, or any character outside RFC 3986's path
 * syntax. The path itself is not echoed here: it is attacker-controlled.
 */
export function checkOriginPath (rawPath: string): string {
  if (!isCdnPath(rawPath)) {
    throw new FST_ERR_CF_INVALID_PARAM('path',
      'it has a dot segment (also percent-encoded or after "\\"), a backslash, "#", a control character, ' +
      'an escape of a character that needs none (such as %6F for "o") or a character a URL path cannot hold')
  }
  return rawPath
}
