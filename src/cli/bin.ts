#!/usr/bin/env node
import { main } from './main.js'

function stopped (): Promise<void> {
  return new Promise((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve())
  })
}

// main() reports every error itself and resolves to the exit status.
main(process.argv.slice(2), {
  out: (line) => { process.stdout.write(line + '\n') },
  err: (line) => { process.stderr.write(line + '\n') },
  stopped
}).then((code) => { process.exitCode = code })
