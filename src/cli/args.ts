import { readFileSync } from 'node:fs'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { FST_ERR_CF_CLI_USAGE } from '../core/errors.js'

export function usage (message: string): never {
  throw new FST_ERR_CF_CLI_USAGE(message)
}

type Options = NonNullable<ParseArgsConfig['options']>

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
}

/** Strict parsing: an unknown flag or a missing value is a usage error, not a silent default. */
export function parse (args: string[], options: Options, maxPositionals: number): Parsed {
  let parsed
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
  } catch (err) {
    // parseArgs messages name the flag and, for a bad value, echo only what was typed.
    usage((err as Error).message)
  }
  if (parsed.values.help !== true && parsed.positionals.length > maxPositionals) {
    usage(`unexpected argument "${parsed.positionals[maxPositionals] as string}"`)
  }
  return parsed as Parsed
}

export function str (p: Parsed, name: string): string | undefined {
  const v = p.values[name]
  return typeof v === 'string' ? v : undefined
}

export function required (p: Parsed, name: string): string {
  const v = str(p, name)
  if (v === undefined || v === '') usage(`--${name} is required`)
  return v
}

export function list (p: Parsed, name: string): string[] {
  const v = p.values[name]
  return Array.isArray(v) ? v : []
}

/** Reads a file named on the command line; the message names the flag and the path, never the content. */
export function readFile (flag: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    return usage(`cannot read ${flag} ${path} (${(err as { code?: string }).code ?? 'error'})`)
  }
}

/** A time as given on the command line: integer epoch seconds, or an ISO 8601 date. */
export function parseTime (flag: string, text: string | undefined): number | Date | undefined {
  if (text === undefined) return undefined
  if (/^\d+$/.test(text)) return Number(text)
  const ms = Date.parse(text)
  if (Number.isNaN(ms)) usage(`${flag} ${text} is neither epoch seconds nor an ISO date such as 2030-01-01T00:00:00Z`)
  return new Date(ms)
}

/** `--key ID=FILE` pairs into a key map of PEM contents. */
export function keyMap (specs: string[]): Record<string, Buffer> {
  if (specs.length === 0) usage('give at least one --key ID=public.pem')
  const keys: Record<string, Buffer> = {}
  for (const spec of specs) {
    const eq = spec.indexOf('=')
    if (eq <= 0 || eq === spec.length - 1) usage(`--key ${spec}: expected ID=path/to/public.pem`)
    const id = spec.slice(0, eq)
    if (keys[id] !== undefined) usage(`--key ${id} is given twice`)
    keys[id] = readFile('--key', spec.slice(eq + 1))
  }
  return keys
}
