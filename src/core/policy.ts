import { FST_ERR_CF_INVALID_POLICY } from './errors.js'
import { isObject } from './guards.js'
import { MAX_EPOCH_SECONDS } from './time.js'
import { tryParseCidr, type Cidr } from './ip.js'

/** A decoded CloudFront policy statement. */
export interface PolicyStatement {
  /** The Resource pattern; `undefined` only when a policy leaves it out (which CloudFront reads as "every file"). */
  resource: string | undefined
  /** DateLessThan, epoch seconds. */
  expires: number
  /** DateGreaterThan, epoch seconds. */
  notBefore?: number
  /** AWS:SourceIp, as `a.b.c.d/nn`. */
  ipAddress?: string
}

/** The canned policy CloudFront rebuilds from a URL and its `Expires`, byte for byte. */
export function cannedPolicy (resource: string, expires: number): string {
  return `{"Statement":[{"Resource":${JSON.stringify(resource)},` +
    `"Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`
}

/**
 * A custom policy, with the key order the AWS SDKs emit (Resource, then DateLessThan,
 * DateGreaterThan, IpAddress), so the same input signs the same bytes.
 */
export function customPolicy (statement: {
  resource: string,
  expires: number,
  notBefore?: number | undefined,
  ipAddress?: string | undefined
}): string {
  let condition = `"DateLessThan":{"AWS:EpochTime":${statement.expires}}`
  if (statement.notBefore !== undefined) condition += `,"DateGreaterThan":{"AWS:EpochTime":${statement.notBefore}}`
  if (statement.ipAddress !== undefined) {
    condition += `,"IpAddress":{"AWS:SourceIp":${JSON.stringify(statement.ipAddress)}}`
  }
  return `{"Statement":[{"Resource":${JSON.stringify(statement.resource)},"Condition":{${condition}}}]}`
}

const CONDITIONS = new Set(['DateLessThan', 'DateGreaterThan', 'IpAddress'])

function epoch (cond: unknown): number | null {
  if (!isObject(cond)) return null
  const keys = Object.keys(cond)
  const v = cond['AWS:EpochTime']
  if (keys.length !== 1 || typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_EPOCH_SECONDS) return null
  return v
}

/**
 * Decodes a policy strictly: one statement, integer epoch times within range, only the conditions
 * CloudFront knows, an IPv4 CIDR. Returns the statement or a reason; never throws.
 * `requireResource` refuses a policy without Resource (the signer never emits one).
 */
export function parsePolicy (json: string, requireResource: boolean): PolicyStatement | string {
  let doc: unknown
  try {
    doc = JSON.parse(json)
  } catch {
    return 'the policy is not valid JSON'
  }
  if (!isObject(doc)) return 'the policy must be a JSON object'
  const extra = Object.keys(doc).filter((k) => k !== 'Statement')
  if (extra.length > 0) return `unknown top-level field "${extra[0]}"`
  const statements = doc.Statement
  if (!Array.isArray(statements) || statements.length !== 1) return 'the policy must have exactly one Statement'
  const st = statements[0]
  if (!isObject(st)) return 'the Statement must be an object'
  for (const key of Object.keys(st)) {
    if (key !== 'Resource' && key !== 'Condition') return `unknown Statement field "${key}"`
  }
  const resource = st.Resource
  if (resource === undefined) {
    if (requireResource) return 'the Statement has no Resource (it would grant every file the key can sign for)'
  } else if (typeof resource !== 'string' || resource.length === 0) {
    return 'the Resource must be a non-empty string'
  }
  const cond = st.Condition
  if (!isObject(cond)) return 'the Statement needs a Condition with DateLessThan'
  for (const key of Object.keys(cond)) {
    if (!CONDITIONS.has(key)) return `unknown condition "${key}"`
  }
  const expires = epoch(cond.DateLessThan)
  if (expires === null) return 'DateLessThan must be {"AWS:EpochTime": <integer seconds>}'
  const out: PolicyStatement = { resource: resource as string | undefined, expires }
  if (cond.DateGreaterThan !== undefined) {
    const nb = epoch(cond.DateGreaterThan)
    if (nb === null) return 'DateGreaterThan must be {"AWS:EpochTime": <integer seconds>}'
    out.notBefore = nb
  }
  if (cond.IpAddress !== undefined) {
    const ipCond = cond.IpAddress
    const src = isObject(ipCond) && Object.keys(ipCond).length === 1 ? ipCond['AWS:SourceIp'] : undefined
    const cidr: Cidr | null = typeof src === 'string' ? tryParseCidr(src) : null
    if (!cidr) return 'IpAddress must be {"AWS:SourceIp": "<IPv4 address or CIDR>"}'
    out.ipAddress = cidr.text
  }
  return out
}

/** Like `parsePolicy` for the signer: a coded error instead of a reason. */
export function checkPolicy (json: unknown): PolicyStatement {
  if (typeof json !== 'string') throw new FST_ERR_CF_INVALID_POLICY('expected the policy as a JSON string')
  const parsed = parsePolicy(json, true)
  if (typeof parsed === 'string') throw new FST_ERR_CF_INVALID_POLICY(parsed)
  // Such a policy opens nothing, ever: refused when signing, merely never valid when verifying.
  if (parsed.notBefore !== undefined && parsed.notBefore >= parsed.expires) {
    throw new FST_ERR_CF_INVALID_POLICY('DateGreaterThan must be before DateLessThan')
  }
  return parsed
}
