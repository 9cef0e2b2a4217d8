import {
  FST_ERR_CF_COOKIE_TOO_LARGE, FST_ERR_CF_INVALID_OPTION, FST_ERR_CF_INVALID_PARAM, FST_ERR_CF_OVERLAPPING_RULES
} from '../errors.js'
import { MAX_COOKIE_PATH_BYTES, flat } from '../cookies.js'
import {
  compilePattern, matchPattern, patternCouldMatchRoute, checkParam, defaultParamCheck, compileResourceTemplate,
  fillTemplate,
  templatesOverlap, type ParamCheck, type PathPattern, type ResourceTemplate
} from './patterns.js'
import { parseDuration } from '../time.js'
import { refuseUnknownKeys } from '../guards.js'
import { pathCharSource } from '../url.js'
import {
  ANY_SIGNED_IN_USER, EXPLICIT_GRANT_KEYS, RULE_KEYS, RULE_SETTING_KEYS, checkAuthorize, checkLifetime,
  defaultRefreshBefore, optionalBoolean, optionalFunction, resolveLifetime, type GrantDefaults
} from './options.js'
import type {
  AuthorizeFunction, AuthorizeSetting, ExplicitGrantOptions, GrantRule, GrantRuleSettings
} from './types.js'

/** A rule (or a route's config) once compiled. */
export interface CompiledRule<Req> {
  match: PathPattern | null
  template: ResourceTemplate
  ttl: number
  refreshBefore: number
  ipBound: boolean
  authorize: AuthorizeFunction<Req> | undefined
  checkParam: ParamCheck
}

/** A grant decided for a request, waiting for the response status and the user. */
export interface PendingGrant<Req = unknown> {
  rule: CompiledRule<Req>
  /** The cookie Path, the granted prefix: `/courses/42/`. */
  path: string
  params: Record<string, string>
  /** The user's cache slot for an unbound grant (`path \0 \0 ttl`), made once per pending grant. */
  slot: string
}

/** Which of a user's sets a grant is: its prefix, the IP it is bound to (or ''), its lifetime. */
export function slotOf (path: string, ip: string, ttl: number): string {
  return `${path}\u0000${ip}\u0000${ttl}`
}

/** Paths remembered per rule list, with the grant they match (or none). */
const MATCH_MEMO_SIZE = 2048

// A path's characters without ";": the prefix becomes the cookie's Path, where ";" would end the
// attribute and start another (`Path=/a;Domain=...`).
const PREFIX_RE = new RegExp(`^/(?:${pathCharSource({ star: false, semicolon: false })}+/)*$`)

const PREFIX_SHAPE = 'a grant prefix is a CDN path that starts and ends with "/", such as "/courses/42/", without ' +
  'wildcards, ";", empty or dot segments'

/** Characters an escape never needs to spell (unreserved), and the path separators. */
const UNRESERVED_OR_SEPARATOR_RE = /^[A-Za-z0-9\-._~/\\]$/

/**
 * Whether a `%XX` escape is one some hop decodes into another path than the one CloudFront compares
 * (it compares the raw text): an unreserved character (A-Z a-z 0-9 - . _ ~, which never needs
 * escaping: S3 reads `/c%6Furses/` as `courses/`), a separator (`%2F`, `%5C`), a control
 * character, or lower-case hex (`%c3`: RFC 3986 spells escapes upper-case, as browsers send them).
 */
function isNonCanonicalEscape (hex: string): boolean {
  if (hex !== hex.toUpperCase()) return true
  const code = parseInt(hex, 16)
  return code < 0x20 || code === 0x7f || UNRESERVED_OR_SEPARATOR_RE.test(String.fromCharCode(code))
}

/**
 * A grant prefix from a handler: a CDN path that starts and ends with "/", without wildcards, empty or
 * dot segments, spelled as a browser sends it (no escape a CDN or origin would decode into another
 * path), and short enough to be a cookie Path. Throws FST_ERR_CF_INVALID_PARAM (the prefix is not echoed).
 */
export function checkPrefix (prefix: unknown): string {
  // Length first: a browser ignores a longer Path attribute, and the checks below need not read it.
  if (typeof prefix !== 'string' || prefix.length > MAX_COOKIE_PATH_BYTES) {
    throw new FST_ERR_CF_INVALID_PARAM('prefix', `${PREFIX_SHAPE}, at most ${MAX_COOKIE_PATH_BYTES} bytes (the ` +
      'longest cookie Path browsers keep)')
  }
  if (!PREFIX_RE.test(prefix) || prefix.split('/').some((s) => s === '.' || s === '..')) {
    throw new FST_ERR_CF_INVALID_PARAM('prefix', PREFIX_SHAPE)
  }
  for (let i = prefix.indexOf('%'); i !== -1; i = prefix.indexOf('%', i + 3)) {
    if (isNonCanonicalEscape(prefix.slice(i + 1, i + 3))) {
      throw new FST_ERR_CF_INVALID_PARAM('prefix', 'it escapes a character that needs no escape (such as %6F for ' +
        '"o"), a "/" or "\\" (%2F, %5C) or a control character, or escapes in lower-case hex (%c3 for %C3): an ' +
          'origin that decodes it (S3 does) would serve another path than the one granted; write the prefix as a ' +
            'browser sends it')
    }
  }
  return prefix
}

/** Most rounds of percent-decoding a segment is read through (an origin behind a decoding proxy decodes twice). */
const DECODE_ROUNDS = 3

/**
 * A path segment as a lenient hop may read it: percent-decoded (S3; twice behind a decoding proxy),
 * compatibility-folded (NFKC: fullwidth letters, "ſ"), case-folded (case-insensitive origins), without
 * `;` path parameters (servlet containers) or trailing dots and spaces (Windows). Two segments that
 * fold alike may name one file.
 */
export function foldSegment (segment: string): string {
  let s = segment
  for (let round = 0; round < DECODE_ROUNDS && s.includes('%'); round++) {
    try {
      s = decodeURIComponent(s)
    } catch {
      // Not UTF-8 once decoded: compared as it stands.
      break
    }
  }
  s = s.normalize('NFKC').toUpperCase().toLowerCase()
  const semicolon = s.indexOf(';')
  if (semicolon !== -1) s = s.slice(0, semicolon)
  return s.replace(/[\s.]+$/, '')
}

/**
 * Whether a prefix's segments reach into a resource's (`want`: literals, null for a parameter): equal
 * wherever both have a segment. A shorter prefix contains the resource; a longer one is covered by it.
 */
function reaches (segments: string[], want: ReadonlyArray<string | null>): boolean {
  const n = Math.min(segments.length, want.length)
  for (let i = 0; i < n; i++) {
    const literal = want[i]
    if (literal !== null && literal !== segments[i]) return false
  }
  return true
}

/** The path rules and route configs: compiled once, refused when their prefixes could nest, matched per request. */
export class RuleBook<Req> {
  readonly rules: Array<CompiledRule<Req>> = []
  private readonly compiled: Array<CompiledRule<Req>> = []
  /** Each compiled rule's resource segments as foldSegment reads them, for spotting look-alike prefixes. */
  private readonly folded: Array<Array<string | null>> = []
  private readonly defaults: GrantDefaults
  private readonly authorize: AuthorizeSetting<Req> | undefined
  private readonly matched = new WeakMap<ReadonlyArray<CompiledRule<Req>>, Map<string, PendingGrant<Req> | null>>()

  constructor (
    rules: unknown,
    defaults: GrantDefaults,
    authorize: AuthorizeSetting<Req> | undefined,
    warn: (message: string) => void
  ) {
    this.defaults = defaults
    this.authorize = authorize
    if (rules !== undefined && !Array.isArray(rules)) {
      throw new FST_ERR_CF_INVALID_OPTION('rules', 'expected an ' +
      'array of { match, resource }')
    }((rules ?? []) as Array<GrantRule<Req>>).forEach((rule, i) => {
      if (typeof rule !== 'object' || rule === null) {
        throw new FST_ERR_CF_INVALID_OPTION(`rules[${i}]`, 'expected { ' +
        'match, resource }')
      }
      refuseUnknownKeys(rule, RULE_KEYS, `rules[${i}]`)
      const match = compilePattern(rule.match, `rules[${i}].match`)
      const compiled = this.compile(rule, `rules[${i}]`, match.params)
      compiled.match = match
      // Every page of every course granting one shared prefix is rarely what was meant.
      const unused = match.params.filter((p) => !compiled.template.params.includes(p))
      if (unused.length > 0) {
        warn(`rules[${i}]: "${rule.match}" captures ${unused.map((p) => `:${p}`).join(', ')}, which the resource ` +
          `"${compiled.template.source}" never uses, so every matching request is granted the same prefix: put ` +
            `${unused.length === 1 ? 'it' : 'them'} in the resource (such as "/courses/:${unused[0] as string}/*")`)
      }
      this.rules.push(compiled)
    })
  }

  /** Compiles rule settings (a rule, or a route's `config.cloudfront`). `params` are those the route provides. */
  compile (settings: GrantRuleSettings<Req>, where: string, params: string[] | null): CompiledRule<Req> {
    if (typeof settings !== 'object' || settings === null) {
      throw new FST_ERR_CF_INVALID_OPTION(where, 'expected { ' +
      'resource, ttl?, ipBound?, authorize? } or false')
    }
    if (params !== null && !('match' in settings)) refuseUnknownKeys(settings, RULE_SETTING_KEYS, where)
    const template = compileResourceTemplate(settings.resource, `${where}.resource`)
    if (params !== null) {
      for (const p of template.params) {
        if (!params.includes(p)) {
          throw new FST_ERR_CF_INVALID_OPTION(`${where}.resource`, `uses ":${p}", which the ` +
          'path does not capture')
        }
      }
    }
    for (const other of this.compiled) {
      if (templatesOverlap(template, other.template)) {
        throw new FST_ERR_CF_OVERLAPPING_RULES(`"${template.source}" and "${other.template.source}" grant prefixes ` +
          'that can nest, so a browser would send two cookie sets; make them disjoint')
      }
    }
    const { ttl, refreshBefore } = resolveLifetime(settings.ttl, settings.refreshBefore, this.defaults, where)
    optionalBoolean(settings.ipBound, `${where}.ipBound`)
    checkAuthorize(settings.authorize, `${where}.authorize`)
    optionalFunction(settings.checkParam, `${where}.checkParam`)
    const rule: CompiledRule<Req> = {
      match: null,
      template,
      ttl,
      refreshBefore,
      ipBound: settings.ipBound ?? this.defaults.ipBound,
      authorize: this.authorizeFor(settings.authorize, template, where),
      checkParam: settings.checkParam ?? defaultParamCheck
    }
    this.compiled.push(rule)
    this.folded.push(template.segments.map((seg) => (seg === null ? null : foldSegment(seg))))
    return rule
  }

  /**
   * The check a rule runs: its own authorize, else the global one; none for the explicit
   * `'any-signed-in-user'`. A rule with neither is refused: it would grant every prefix of the
   * rule to every signed-in user, rarely what an app that sells or assigns content means, and
   * nothing would say so until a user opened another's course.
   */
  private authorizeFor (
    own: AuthorizeSetting<Req> | undefined, template: ResourceTemplate, where: string
  ): AuthorizeFunction<Req> | undefined {
    const setting = own ?? this.authorize
    if (setting === undefined) {
      const here = where.startsWith('rules[') ? 'this rule' : 'this route'
      const params = template.params.map((p) => `:${p}`).join(', ')
      const whatever = params === '' ? '' : ` whatever its ${params} (every course to anyone who can sign in)`
      throw new FST_ERR_CF_INVALID_OPTION(`${where}.authorize`, 'missing: without authorize (global, or on ' +
        `${here}), every signed-in user would be granted ` +
          `"${template.source}"${whatever}. ` +
          'Give authorize: (request, params, prefix) => true when the user may have it (such as when they own ' +
          `params.courseId), or, if every signed-in user may, say so: authorize: '${ANY_SIGNED_IN_USER}' ` +
          `(globally or on ${here})`)
    }
    return setting === ANY_SIGNED_IN_USER ? undefined : setting
  }

  /**
   * Matches a raw request path (query removed) against the path rules, first match wins.
   * Throws FST_ERR_CF_INVALID_PARAM (400) when a captured value is unsafe.
   */
  match (path: string, rules: ReadonlyArray<CompiledRule<Req>> = this.rules): PendingGrant<Req> | null {
    // A pending grant depends only on the path (and the rules, fixed per caller): players and pages
    // ask for the same few paths over and over, so checked results are kept, bounded (bench:plugin, plugin-cached).
    const memo = this.matched.get(rules)
    const known = memo?.get(path)
    if (known !== undefined) return known
    let found: PendingGrant<Req> | null = null
    for (const rule of rules) {
      const params = matchPattern(rule.match as PathPattern, path)
      if (params !== null) {
        found = this.pending(rule, params)
        break
      }
    }
    if (memo === undefined) this.matched.set(rules, new Map([[path, found]]))
    else {
      if (memo.size >= MATCH_MEMO_SIZE) memo.clear()
      memo.set(path, found)
    }
    return found
  }

  /** The path rules that requests to a router template could match (none: the route needs no matching). */
  rulesForRoute (routeUrl: string): Array<CompiledRule<Req>> {
    return this.rules.filter((rule) => patternCouldMatchRoute(rule.match as PathPattern, routeUrl))
  }

  /** A pending grant for a compiled rule with parameters from the framework's router. */
  pending (rule: CompiledRule<Req>, params: Record<string, unknown>): PendingGrant<Req> {
    const checked: Record<string, string> = {}
    for (const name of rule.template.params) checked[name] = checkParam(name, params[name], rule.checkParam)
    const path = fillTemplate(rule.template, checked)
    // Refused before the handler runs, on every host: no set could carry this Path.
    if (path.length > MAX_COOKIE_PATH_BYTES / 4 && Buffer.byteLength(path) > MAX_COOKIE_PATH_BYTES) {
      throw new FST_ERR_CF_COOKIE_TOO_LARGE(`the cookie Path is longer than ${MAX_COOKIE_PATH_BYTES} bytes`)
    }
    // Flat: the slot is kept by the cache for minutes, and compared on every hit.
    return { rule, path, params: checked, slot: flat(slotOf(path, '', rule.ttl)) }
  }

  /**
   * A pending grant for a handler's prefix (`grant('/courses/42/')`), with the `authorize`
   * that decides it: the covering rule's (with the parameters read back from the prefix), else the
   * global one (with no parameters). Throws FST_ERR_CF_INVALID_PARAM for a prefix spelled otherwise
   * than a browser sends it or than a rule spells its literal segments, and, unless the handler says
   * `{ authorized: true }`, for a prefix that contains a rule's resource or that no authorize can decide.
   */
  prefixGrant (prefix: unknown, settings: ExplicitGrantOptions = {}): PendingGrant<Req> {
    const path = checkPrefix(prefix)
    if (typeof settings !== 'object' || settings === null) {
      throw new FST_ERR_CF_INVALID_OPTION('grant options', 'expected { ttl?, ipBound?, authorized? }')
    }
    refuseUnknownKeys(settings, EXPLICIT_GRANT_KEYS, 'grant options')
    const ttl = settings.ttl === undefined
      ? this.defaults.ttl
      : checkLifetime(parseDuration(settings.ttl, 'ttl'), this.defaults.maxTtl, 'ttl')
    optionalBoolean(settings.ipBound, 'ipBound')
    optionalBoolean(settings.authorized, 'authorized')
    const contained = this.containedIn(path)
    let authorize: AuthorizeFunction<Req> | undefined
    let params: Record<string, string> = {}
    if (settings.authorized !== true) {
      if (contained !== null) {
        throw new FST_ERR_CF_INVALID_PARAM('prefix', `it contains the resource "${contained.template.source}", so ` +
          'it would open every grant of that resource at once, which no authorize decides: grant a prefix inside ' +
            'the resource, or check access in the handler and pass { authorized: true }')
      }
      const covering = this.coveringRule(path)
      if (covering !== null) {
        // A covered prefix is decided as a request matching the rule would be (granted when the rule has no authorize).
        authorize = covering.rule.authorize
        params = covering.params
      } else if (this.authorize !== undefined) {
        // The app's explicit 'any-signed-in-user' covers uncovered prefixes too.
        authorize = this.authorize === ANY_SIGNED_IN_USER ? undefined : this.authorize
      } else {
        throw new FST_ERR_CF_INVALID_PARAM('prefix', 'no rule or route config covers it and there is no authorize ' +
          'option to ask: check access in the handler and pass { authorized: true }, or give an authorize option ' +
            '(asked with params {} for such prefixes)')
      }
    }
    const rule: CompiledRule<Req> = {
      match: null,
      template: { source: path + '*', parts: [path], params: [], segments: [] },
      ttl,
      refreshBefore: defaultRefreshBefore(ttl, this.defaults.refreshBefore),
      ipBound: settings.ipBound ?? this.defaults.ipBound,
      authorize,
      checkParam: defaultParamCheck
    }
    return { rule, path, params, slot: flat(slotOf(path, '', ttl)) }
  }

  /**
   * The rule or route config whose resource lies inside a checked prefix (`/courses/` holds
   * `/courses/:courseId/*`), or null. Throws FST_ERR_CF_INVALID_PARAM when the prefix reaches a
   * resource only as a lenient hop reads it (`/Courses/43/`, `/courses%3Bv=1/43/`): some CDN function or
   * origin would serve the rule's files for it, though no rule's authorize would be asked.
   */
  private containedIn (path: string): CompiledRule<Req> | null {
    const segments = path.split('/').slice(1, -1)
    let folded: string[] | null = null
    let contained: CompiledRule<Req> | null = null
    let spelledAlike = false
    let lookAlike = false
    for (let i = 0; i < this.compiled.length; i++) {
      const rule = this.compiled[i] as CompiledRule<Req>
      if (reaches(segments, rule.template.segments)) {
        spelledAlike = true
        if (segments.length < rule.template.segments.length) contained ??= rule
        continue
      }
      folded ??= segments.map(foldSegment)
      if (reaches(folded, this.folded[i] as Array<string | null>)) lookAlike = true
    }
    // Two rules whose literals differ only in case are the app's to keep apart: a prefix spelled
    // as one of them is that one's.
    if (lookAlike && !spelledAlike) {
      throw new FST_ERR_CF_INVALID_PARAM('prefix', 'it spells a rule\'s path otherwise than the rule does (letter ' +
        'case, escapes, look-alike characters, ";" parameters or trailing dots), which some CDNs and origins read ' +
          'as the rule\'s own path: write it as the rule\'s resource does')
    }
    return contained
  }

  /**
   * The rule or route config whose resource covers a CDN path, with the parameters read back from
   * it: `/courses/42/` (or `/courses/42/seg1.ts`) under `/courses/:courseId/*` gives `{ courseId: '42' }`.
   * Null when no resource covers the path. A path under a resource whose value read back fails the
   * rule's parameter check throws FST_ERR_CF_INVALID_PARAM: it is never treated as uncovered.
   */
  coveringRule (cdnPath: string): { rule: CompiledRule<Req>, params: Record<string, string>, prefix: string } | null {
    const segments = cdnPath.split('/')
    let refused: unknown = null
    for (const rule of this.compiled) {
      const want = rule.template.segments
      // The path must reach inside the prefix: `/courses/42/` itself or a file below it.
      if (segments.length < want.length + 2 || segments[0] !== '') continue
      const params: Record<string, string> = {}
      let names = 0
      let ok = true
      for (let i = 0; i < want.length && ok; i++) {
        const literal = want[i]
        const seg = segments[i + 1] as string
        if (literal === null || literal === undefined) {
          const name = rule.template.params[names++] as string
          try {
            params[name] = checkParam(name, seg, rule.checkParam)
          } catch (err) {
            refused ??= err
            ok = false
          }
        } else if (seg !== literal) ok = false
      }
      if (ok) return { rule, params, prefix: fillTemplate(rule.template, params) }
    }
    if (refused !== null) throw refused
    return null
  }
}
