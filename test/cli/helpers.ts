import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { main } from '../../src/cli/main.js'

export const ROOT = resolve(__dirname, '../..')

/**
 * The built CLI: the CommonJS half of scripts/build.mjs (the same tsconfig, and the package.json
 * that marks the folder as CommonJS), compiled once into a private folder. dist/ itself is not
 * used because other test files and scripts rebuild it, deleting it first, while these tests run.
 */
export function builtCli (t: { teardown: (fn: () => void) => void }, name: string): string {
  const out = join(ROOT, 'test', '.tmp', `${name}-${process.pid}`)
  mkdirSync(out, { recursive: true })
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  writeFileSync(join(out, 'tsconfig.json'), JSON.stringify({
    extends: join(ROOT, 'tsconfig.json'),
    compilerOptions: { outDir: './cjs', rootDir: join(ROOT, 'src'), declaration: false, declarationMap: false, noCheck: true },
    include: [],
    files: [join(ROOT, 'src', 'cli', 'bin.ts')]
  }))
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(out, 'tsconfig.json')], { cwd: ROOT, stdio: 'pipe' })
  writeFileSync(join(out, 'cjs', 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n')
  return join(out, 'cjs', 'cli', 'bin.js')
}

export interface Run { code: number | null, stdout: string, stderr: string }

/** Runs the bin in its own process; every output is also pushed to `outputs`, for the key-leak check. */
export function runner (bin: string, outputs: string[]): (args: string[], env?: Record<string, string>) => Promise<Run> {
  return (args, env = {}) => new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => {
      outputs.push(stdout, stderr)
      resolve({ code, stdout, stderr })
    })
  })
}

/**
 * Runs command lines through main() in this process, with the bin's stdout, stderr and exit status,
 * so that the CLI's coverage counts; `stopped` stands for Ctrl-C (the edge runs until it resolves).
 */
export function inProcess (outputs: string[]): (args: string[], stopped?: () => Promise<void>) => Promise<Run> {
  return async (args, stopped = () => Promise.resolve()) => {
    const out: string[] = []
    const err: string[] = []
    const code = await main(args, { out: (l) => out.push(l + '\n'), err: (l) => err.push(l + '\n'), stopped })
    const result = { code, stdout: out.join(''), stderr: err.join('') }
    outputs.push(result.stdout, result.stderr)
    return result
  }
}
