import { existsSync, readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { COMMANDS, type Command, type Io } from './commands.js'
import { withIsoDates } from './args.js'
import type { OptionNamed } from '../core/errors.js'
import { didYouMean } from './suggest.js'

const NAME = 'cloudfront-cookies'
const PACKAGE = 'fastify-cloudfront-cookies'

function overview (): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length))
  return `Usage: ${NAME} <command> [options]

Sign and verify Amazon CloudFront signed URLs and cookies, and run a local CloudFront edge.

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`).join('\n')}

Run '${NAME} <command> --help' for the options of a command, '${NAME} --version' for the version.
Exit status: 0 success, 1 refused (verify) or failed, 2 bad arguments.`
}

/** The version in the package's package.json, found upwards from this file (dist/cjs/cli/ when installed). */
export function packageVersion (): string {
  // This file runs as CommonJS (the bin); the fallback covers a bundled or ES module copy.
  let dir = typeof __dirname === 'string' ? __dirname : dirname(realpathSync(process.argv[1] ?? '.'))
  for (;;) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string, version?: string }
      if (pkg.name === PACKAGE && typeof pkg.version === 'string') return pkg.version
    }
    const up = dirname(dir)
    if (up === dir) return 'unknown'
    dir = up
  }
}

function unknownCommand (name: string, io: Io): number {
  const hint = name.startsWith('-')
    ? `unknown option ${name}${didYouMean(name, ['--help', '--version'])}`
    : `unknown command "${name}"${didYouMean(name, Object.keys(COMMANDS))}`
  io.err(`${NAME}: ${hint}\n\n${overview()}`)
  return 2
}

/**
 * A library error names the library's option (`expiresIn`, `cors.origins`) in its `option` property; on
 * the command line, the flag that was typed (`--expires-in`) is what the user can change. Epoch times get
 * their ISO date.
 */
export function nameTheFlag (err: { message?: string } & Partial<OptionNamed>, command: Command,
  argv: string[]): string {
  const message = err.message ?? String(err)
  if (typeof err.option !== 'string' || typeof err.reason !== 'string') return withIsoDates(message)
  // An error the CLI made itself already names its flag (`--key ID=file: ...`).
  if (err.option.startsWith('--')) return `invalid ${err.reason}`
  const flags = command.flags ?? {}
  const option = err.option.replace(/\[\d+\]/g, '[]')
  const candidates = Object.hasOwn(flags, option) ? flags[option] : undefined
  if (candidates === undefined) return withIsoDates(message)
  const rest = withIsoDates(err.reason)
  const list = Array.isArray(candidates) ? candidates : [candidates]
  for (const flag of list) {
    const at = argv.findIndex((a) => a === flag || a.startsWith(`${flag}=`))
    if (at === -1) continue
    const arg = argv[at] as string
    // The value as typed (flags carry paths, names and times, never key material); a boolean flag has none.
    const value = arg.length > flag.length ? arg.slice(flag.length + 1) : argv[at + 1]
    const shown = value === undefined || value.startsWith('-') ? '' : ` ${value}`
    return `invalid ${flag}${shown}: ${rest}`
  }
  return `invalid ${list[0] as string}: ${rest}`
}

// What the library refuses in the values a command line gave it (a key, a time, a resource, an
// address, a directory): bad arguments, exit status 2 like a usage error. Anything else is a failure.
const BAD_ARGUMENT_CODES = new Set(['FST_ERR_CF_INVALID_OPTION', 'FST_ERR_CF_INVALID_KEY', 'FST_ERR_CF_INVALID_TIME',
  'FST_ERR_CF_INVALID_RESOURCE', 'FST_ERR_CF_INVALID_IP', 'FST_ERR_CF_INVALID_POLICY', 'FST_ERR_CF_COOKIE_TOO_LARGE'])

/** Runs one command line; resolves to the exit status. Never prints key material. */
export async function main (argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv
  if (name === '--version' || name === '-v') {
    io.out(packageVersion())
    return 0
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined
    const command = topic === undefined || !Object.hasOwn(COMMANDS, topic) ? undefined : COMMANDS[topic]
    if (topic !== undefined && command === undefined) return unknownCommand(topic, io)
    if (name === undefined) {
      io.err(overview())
      return 2
    }
    io.out(command ? command.help : overview())
    return 0
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (command === undefined) return unknownCommand(name, io)
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.help)
    return 0
  }
  try {
    return await command.run(rest, io)
  } catch (err) {
    const e = err as { code?: string, message?: string } & Partial<OptionNamed>
    if (e.code === 'FST_ERR_CF_CLI_USAGE') {
      io.err(`${NAME} ${name}: ${withIsoDates(e.message ?? '')}\nRun '${NAME} ${name} --help' for usage.`)
      return 2
    }
    // Library errors are coded and never quote key material; others are reported by message alone.
    const message = nameTheFlag(e.message === undefined ? { message: String(err) } : e, command, rest)
    io.err(`${NAME} ${name}: ${message}${e.code ? ` (${e.code})` : ''}`)
    return e.code !== undefined && BAD_ARGUMENT_CODES.has(e.code) ? 2 : 1
  }
}
