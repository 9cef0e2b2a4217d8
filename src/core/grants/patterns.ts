import { FST_ERR_CF_INVALID_OPTION, FST_ERR_CF_INVALID_PARAM } from '../errors.js'
import { pathCharSource } from '../url.js'

// Path rules: `/courses/:courseId/*`. A `:name` takes one raw path segment, a final `*` takes
// the rest. Matching runs on the raw, percent-encoded path, the same text a browser sends, so
// what is checked is exactly what would be pasted into a resource.

export interface PathPattern {
  source: string
  regex: RegExp
  params: string[]
}

const PARAM_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/

function escapeRegex (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Compiles a match pattern (`/a/:id/*`) into a regex on raw paths. */
export function compilePattern (source: unknown, what: string): PathPattern {
  if (typeof source !== 'string' || !source.startsWith('/')) {
    throw new FST_ERR_CF_INVALID_OPTION(what, 'expected a path pattern starting with "/", such as ' +
      '"/courses/:courseId/*"')
  }
  const segments = source.split('/').slice(1)
  const params: string[] = []
  let re = '^'
  segments.forEach((seg, i) => {
    if (seg === '*') {
      if (i !== segments.length - 1) {
        throw new FST_ERR_CF_INVALID_OPTION(what, '"*" may only end the pattern ' +
        `("${source}")`)
      }
      re += '/(?:.*)'
      return
    }
    if (seg.startsWith(':')) {
      const name = seg.slice(1)
      if (!PARAM_NAME_RE.test(name)) {
        throw new FST_ERR_CF_INVALID_OPTION(what, `bad parameter name "${seg}" in ` +
        `"${source}"`)
      }
      if (params.includes(name)) {
        throw new FST_ERR_CF_INVALID_OPTION(what, `parameter "${name}" appears twice in ` +
        `"${source}"`)
      }
      params.push(name)
      re += '/([^/]*)'
      return
    }
    if (/[*?:]/.test(seg)) {
      throw new FST_ERR_CF_INVALID_OPTION(what, `"${seg}" mixes literal text with a wildcard ` +
      `or parameter in "${source}"`)
    }
    re += '/' + escapeRegex(seg)
  })
  return { source, regex: new RegExp(re + '$'), params }
}

/** Matches a raw path (no query); returns the raw parameter values, or null. */
export function matchPattern (pattern: PathPattern, path: string): Record<string, string> | null {
  const m = pattern.regex.exec(path)
  if (!m) return null
  const out: Record<string, string> = {}
  for (let i = 0; i < pattern.params.length; i++) out[pattern.params[i] as string] = m[i + 1] as string
  return out
}

/**
 * Whether requests to a router template (`/courses/:id/player`, `/files/*`) could match a pattern.
 * Conservative: true when unsure, so a framework can skip matching only where it can never succeed.
 */
export function patternCouldMatchRoute (pattern: PathPattern, routeUrl: string): boolean {
  const pat = pattern.source.split('/').slice(1)
  const route = routeUrl.split('/').slice(1)
  for (let i = 0; i < pat.length; i++) {
    const p = pat[i] as string
    if (p === '*') return true
    const r = route[i]
    if (r === undefined) return false
    if (r.includes('*')) return true
    if (r.includes(':') || p.startsWith(':')) continue
    if (p !== r) return false
  }
  return route.length === pat.length
}

/** A parameter check: true when the value may be pasted into a resource. */
export type ParamCheck = (value: string, name: string) => boolean

/** A literal segment of a resource template: path characters, no `*` or `;`. */
const LITERAL_SEGMENT_RE = new RegExp(`^${pathCharSource({ star: false, semicolon: false })}+$`)

const SAFE_SEGMENT_RE = /^[A-Za-z0-9._~-]+$/

/** The default check: letters, digits and `._~-`, not `.` or `..`. */
export const defaultParamCheck: ParamCheck = (value) => SAFE_SEGMENT_RE.test(value) && value !== '.' && value !== '..'

// Never allowed, whatever a custom check says: these would widen a grant or break out of the segment
// (";" out of the cookie's Path attribute, into another attribute).
// eslint-disable-next-line no-control-regex
const NEVER_RE = /[*?/\\#;\s\x00-\x1f\x7f]/

/**
 * Checks a value before it becomes part of a resource. Throws FST_ERR_CF_INVALID_PARAM (400);
 * the value itself is not echoed, since it is attacker-controlled.
 */
export function checkParam (name: string, value: unknown, check: ParamCheck): string {
  if (typeof value !== 'string' || value.length === 0) throw new FST_ERR_CF_INVALID_PARAM(name, 'it is empty')
  if (NEVER_RE.test(value) || value === '.' || value === '..') {
    throw new FST_ERR_CF_INVALID_PARAM(name, 'it contains a wildcard, a path separator, ";", a dot segment, ' +
      'whitespace or a control character')
  }
  if (!check(value, name)) {
    throw new FST_ERR_CF_INVALID_PARAM(name, 'it is not a safe path segment (letters, digits ' +
    'and ._~- by default)')
  }
  return value
}

/** A resource template: `/courses/:courseId/*`, a CDN path prefix ending in `/*`. */
export interface ResourceTemplate {
  source: string
  /** Literal text and parameter names, alternating: `['/courses/', 'courseId', '/']`. */
  parts: string[]
  params: string[]
  /** Segments before the final `*`: literals, or null for a parameter. For overlap checks. */
  segments: Array<string | null>
}

export function compileResourceTemplate (source: unknown, what: string): ResourceTemplate {
  if (typeof source !== 'string' || !source.startsWith('/') || !source.endsWith('/*')) {
    throw new FST_ERR_CF_INVALID_OPTION(what, 'expected a CDN path prefix that starts with "/" and ends with "/*", ' +
      'such as "/courses/:courseId/*" ("/courses/4*" would also grant "/courses/42/")')
  }
  const body = source.slice(0, -1) // keep the trailing "/"
  const segments: Array<string | null> = []
  const parts: string[] = []
  const params: string[] = []
  let literal = '/'
  for (const seg of body.split('/').slice(1, -1)) {
    if (seg.startsWith(':')) {
      const name = seg.slice(1)
      if (!PARAM_NAME_RE.test(name)) {
        throw new FST_ERR_CF_INVALID_OPTION(what, `bad parameter name "${seg}" in ` +
        `"${source}"`)
      }
      parts.push(literal, name)
      params.push(name)
      literal = '/'
      segments.push(null)
    } else {
      // The filled resource is the cookie's Path, where ";" would end the attribute.
      if (seg.includes(';')) {
        throw new FST_ERR_CF_INVALID_OPTION(what, `"${seg}" in "${source}" has a ";", which ` +
        'would end the cookie\'s Path: escape it as %3B')
      }
      if (
        seg === '' || seg === '.' || seg === '..' || /[*?#\s]/.test(seg) ||
        !LITERAL_SEGMENT_RE.test(seg)
      ) {
        throw new FST_ERR_CF_INVALID_OPTION(what, `"${seg}" is not a valid literal path segment in "${source}"`)
      }
      literal += seg + '/'
      segments.push(seg)
    }
  }
  parts.push(literal)
  return { source, parts, params, segments }
}

/** Fills a template with checked values: returns the cookie Path (the prefix, ending in `/`). */
export function fillTemplate (template: ResourceTemplate, params: Record<string, string>): string {
  let out = ''
  for (let i = 0; i < template.parts.length; i++) {
    out += i % 2 === 0 ? template.parts[i] : params[template.parts[i] as string]
  }
  return out
}

/**
 * Two prefixes overlap when one could be inside the other: a browser would then send both cookie
 * sets and which one CloudFront reads is undocumented. Templates of the same depth fill to equal or disjoint Paths.
 */
export function templatesOverlap (a: ResourceTemplate, b: ResourceTemplate): boolean {
  // Same depth: the two fill to the same Path or to disjoint ones, never one inside the other.
  if (a.segments.length === b.segments.length) return false
  const n = Math.min(a.segments.length, b.segments.length)
  for (let i = 0; i < n; i++) {
    const x = a.segments[i]
    const y = b.segments[i]
    if (x !== null && y !== null && x !== y) return false
  }
  return true
}
