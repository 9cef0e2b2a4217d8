// CloudFormation templates checked by a real linter (npm's cfn-lint) and by the allowed values
// the CloudFront API Reference lists, which the resource specification does not carry.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
// First: what the linter needs from Node before it loads.
import './cfn-lint-node.js'
import { validateJsonObject } from 'cfn-lint'
import { extendSpecification } from 'cfn-lint/lib/resourcesSpec'

interface LintRecord { message: string, resource: string }
export interface LintResult { valid: boolean, crit: LintRecord[], warn: LintRecord[] }

/**
 * The resource specification of the types the template uses (scripts/extract-cfn-spec.mjs). The
 * linter's own copy predates key groups, cache policies, response headers policies and origin
 * access control: it refuses them as unknown types until it is extended with this.
 */
const SPEC = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'cloudformation', 'resource-spec.json'), 'utf8')) as {
  ResourceSpecificationVersion: string
  ResourceTypes: Record<string, { Properties: Record<string, { Required?: boolean }> }>
  PropertyTypes: Record<string, unknown>
}
export const SPEC_VERSION = SPEC.ResourceSpecificationVersion
export const SPEC_TYPES = Object.keys(SPEC.ResourceTypes)

function run (template: unknown): LintResult {
  const r = validateJsonObject(JSON.parse(JSON.stringify(template)))
  const pick = (list: Array<{ message: string, resource: string }>): LintRecord[] => list.map(({ message, resource }) => ({ message, resource }))
  return { valid: r.templateValid, crit: pick(r.errors.crit), warn: pick(r.errors.warn) }
}

let extended = false

/** The linter as installed, before it is extended: call it before `lint()`. */
export function lintWithStockSpecification (template: unknown): LintResult {
  if (extended) throw new Error('the specification was already extended in this process')
  return run(template)
}

/** The linter, with the specification of the CloudFront types. */
export function lint (template: unknown): LintResult {
  if (!extended) {
    extendSpecification({ ResourceTypes: SPEC.ResourceTypes, PropertyTypes: SPEC.PropertyTypes })
    extended = true
  }
  return run(template)
}

type Obj = Record<string, unknown>
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Obj : {})

// Allowed values, as the CloudFront API Reference and the Route 53 API Reference list them.
const ONE_OF: Record<string, readonly string[]> = {
  ViewerProtocolPolicy: ['allow-all', 'https-only', 'redirect-to-https'],
  SslSupportMethod: ['sni-only', 'vip', 'static-ip'],
  MinimumProtocolVersion: ['SSLv3', 'TLSv1', 'TLSv1_2016', 'TLSv1.1_2016', 'TLSv1.2_2018', 'TLSv1.2_2019', 'TLSv1.2_2021'],
  HttpVersion: ['http1.1', 'http2', 'http3', 'http2and3'],
  CookieBehavior: ['none', 'whitelist', 'allExcept', 'all'],
  HeaderBehavior: ['none', 'whitelist'],
  QueryStringBehavior: ['none', 'whitelist', 'allExcept', 'all'],
  OriginAccessControlOriginType: ['s3', 'mediastore', 'mediapackagev2', 'lambda'],
  SigningBehavior: ['never', 'always', 'no-override'],
  SigningProtocol: ['sigv4']
}
const METHOD_SETS = [['GET', 'HEAD'], ['GET', 'HEAD', 'OPTIONS'], ['GET', 'HEAD', 'OPTIONS', 'PUT', 'POST', 'PATCH', 'DELETE']]
const CACHED_METHOD_SETS = METHOD_SETS.slice(0, 2)
const CORS_METHODS = ['GET', 'POST', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'ALL']
const NAME_RE = /^[A-Za-z0-9_-]+$/
// Name lengths: origin access controls 64, the other CloudFront names 128.
const NAME_MAX: Record<string, number> = { OriginAccessControlConfig: 64 }

/** What the linter cannot check: values outside the lists above, names CloudFront refuses, references to nothing. */
export function valueProblems (template: unknown): string[] {
  const problems: string[] = []
  const resources = obj(obj(template).Resources)
  const sameSet = (a: unknown, b: readonly string[]): boolean => Array.isArray(a) && a.length === b.length && b.every((m) => a.includes(m))
  function walk (value: unknown, path: string, parentKey: string): void {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`, parentKey))
      return
    }
    if (value === null || typeof value !== 'object') return
    for (const [key, v] of Object.entries(value)) {
      const at = `${path}.${key}`
      const allowed = ONE_OF[key]
      if (allowed !== undefined && !(typeof v === 'string' && allowed.includes(v))) problems.push(`${at}: ${JSON.stringify(v)} is not one of ${allowed.join(', ')}`)
      if (key === 'AllowedMethods' && !METHOD_SETS.some((s) => sameSet(v, s))) problems.push(`${at}: ${JSON.stringify(v)} is not a method set CloudFront allows`)
      if (key === 'CachedMethods' && !CACHED_METHOD_SETS.some((s) => sameSet(v, s))) problems.push(`${at}: ${JSON.stringify(v)} is not a cached method set CloudFront allows`)
      if (key === 'AccessControlAllowMethods') {
        for (const m of (obj(v).Items as unknown[] | undefined) ?? []) if (!CORS_METHODS.includes(m as string)) problems.push(`${at}: ${JSON.stringify(m)} is not a CORS method`)
      }
      if (key === 'Name' && parentKey.endsWith('Config') && typeof v === 'string') {
        const max = NAME_MAX[parentKey] ?? 128
        if (!NAME_RE.test(v) || v.length > max) problems.push(`${at}: ${JSON.stringify(v)} is not a name CloudFront takes (letters, digits, - and _, at most ${max})`)
      }
      if (key === 'Ref' && typeof v === 'string' && !v.startsWith('AWS::') && resources[v] === undefined) problems.push(`${at}: no resource ${v}`)
      if (key === 'Fn::GetAtt' && Array.isArray(v) && resources[v[0] as string] === undefined) problems.push(`${at}: no resource ${String(v[0])}`)
      if (key === 'Fn::Sub' && typeof v === 'string') {
        for (const m of v.matchAll(/\$\{([^}]+)\}/g)) {
          const name = m[1] as string
          if (!name.startsWith('AWS::') && resources[name.split('.')[0] as string] === undefined) problems.push(`${at}: no resource ${name}`)
        }
      }
      walk(v, at, key)
    }
  }
  for (const [id, r] of Object.entries(resources)) {
    walk(obj(r).Properties, id, '')
    const cache = obj(obj(obj(r).Properties).CachePolicyConfig)
    if (Object.keys(cache).length > 0 && !((cache.MinTTL as number) <= (cache.DefaultTTL as number) && (cache.DefaultTTL as number) <= (cache.MaxTTL as number))) {
      problems.push(`${id}: MinTTL <= DefaultTTL <= MaxTTL does not hold`)
    }
  }
  return problems
}
