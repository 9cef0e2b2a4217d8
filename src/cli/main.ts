import { COMMANDS, type Io } from './commands.js'

const NAME = 'cloudfront-cookies'

function overview (): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length))
  return `Usage: ${NAME} <command> [options]

Sign and verify Amazon CloudFront signed URLs and cookies, and run a local CloudFront edge.

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`).join('\n')}

Run '${NAME} <command> --help' for the options of a command.
Exit status: 0 success, 1 refused (verify) or failed, 2 bad arguments.`
}

/** Runs one command line; resolves to the exit status. Never prints key material. */
export async function main (argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined
    const command = topic === undefined ? undefined : COMMANDS[topic]
    if (topic !== undefined && command === undefined) {
      io.err(`${NAME}: unknown command "${topic}"\n\n${overview()}`)
      return 2
    }
    if (name === undefined) {
      io.err(overview())
      return 2
    }
    io.out(command ? command.help : overview())
    return 0
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (command === undefined) {
    io.err(`${NAME}: unknown command "${name}"\n\n${overview()}`)
    return 2
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.help)
    return 0
  }
  try {
    return await command.run(rest, io)
  } catch (err) {
    const e = err as { code?: string, message?: string }
    if (e.code === 'FST_ERR_CF_CLI_USAGE') {
      io.err(`${NAME} ${name}: ${e.message ?? ''}\nRun '${NAME} ${name} --help' for usage.`)
      return 2
    }
    // Library errors are coded and never quote key material; others are reported by message alone.
    io.err(`${NAME} ${name}: ${e.message ?? String(err)}${e.code ? ` (${e.code})` : ''}`)
    return 1
  }
}
