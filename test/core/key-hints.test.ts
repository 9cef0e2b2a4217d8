// A key in the wrong format is refused with the shell command that converts it. Each command is
// taken from the message itself and run, as a user would paste it, in a folder holding a sample
// key with the problem: it must write a key the library accepts and leave every file it found
// (the only copy of a private key, first of all) byte for byte as it was.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createPublicKey, type KeyObject } from 'node:crypto'
import { loadPrivateKey, loadPublicKey } from '../../src/core/keys.js'
import { rsaKey } from '../helpers/keys.js'

const ROOT = resolve(__dirname, '../..')
const FIXTURES = join(ROOT, 'test', 'fixtures')

/** The commands a message suggests: the text between backquotes. */
function commandsIn (message: string): string[] {
  return [...message.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string)
}

function messageOf (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    t.equal((err as { code?: string }).code, 'FST_ERR_CF_INVALID_KEY')
    return (err as Error).message
  }
  throw new Error('the key was accepted')
}

function snapshot (dir: string): Map<string, Buffer> {
  return new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]))
}

// `cloudfront-cookies` as an installed package provides it: the CLI from the sources.
const bin = mkdtempSync(join(tmpdir(), 'cf-hints-bin-'))
writeFileSync(join(bin, 'cloudfront-cookies'), `#!/bin/sh\nexec "${join(ROOT, 'node_modules', '.bin', 'tsx')}" "${join(ROOT, 'src', 'cli', 'bin.ts')}" "$@"\n`, { mode: 0o755 })
t.teardown(() => rmSync(bin, { recursive: true, force: true }))

interface Case {
  name: string
  /** The sample's file name, as the message calls it. */
  file: string
  sample: Buffer | string
  /** What the library says of the sample's contents. */
  load: (input: Buffer | string) => unknown
  /** The files each suggested command writes, in the order the message gives them, and how to read them. */
  writes: Array<{ file: string, as: 'private' | 'public' }>
  /** The public key the converted key must be (or hold). */
  publicKey: KeyObject
}

// The fixture pair's public key, as OpenSSH itself exports it.
const openSshPublic = createPublicKey(execFileSync('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', join(FIXTURES, 'openssh-rsa.pub')]).toString())

const cases: Case[] = [
  {
    name: 'a private key PEM with literal \\n escapes',
    file: 'private.pem',
    sample: rsaKey.privatePem.replace(/\n/g, '\\n'),
    load: (input) => loadPrivateKey(input),
    writes: [{ file: 'private-clean.pem', as: 'private' }],
    publicKey: rsaKey.publicKey
  },
  {
    name: 'a public key PEM with literal \\n escapes',
    file: 'public.pem',
    sample: rsaKey.publicPem.replace(/\n/g, '\\n'),
    load: (input) => loadPublicKey(input),
    writes: [{ file: 'public-clean.pem', as: 'public' }],
    publicKey: rsaKey.publicKey
  },
  {
    name: 'a private key in DER',
    file: 'private.der',
    sample: rsaKey.privateKey.export({ type: 'pkcs8', format: 'der' }),
    load: (input) => loadPrivateKey(input),
    writes: [{ file: 'private.pem', as: 'private' }],
    publicKey: rsaKey.publicKey
  },
  {
    name: 'a public key in DER',
    file: 'public.der',
    sample: rsaKey.publicKey.export({ type: 'spki', format: 'der' }),
    load: (input) => loadPublicKey(input),
    writes: [{ file: 'public.pem', as: 'public' }],
    publicKey: rsaKey.publicKey
  },
  {
    name: 'an OpenSSH private key',
    file: 'id_rsa',
    sample: readFileSync(join(FIXTURES, 'openssh-rsa.key')),
    load: (input) => loadPrivateKey(input),
    // The second command makes a new key instead: it reads nothing and writes private.pem and public.pem.
    writes: [{ file: 'id_rsa.pem', as: 'private' }, { file: 'private.pem', as: 'private' }],
    publicKey: openSshPublic
  },
  {
    name: 'an OpenSSH public key',
    file: 'id_rsa.pub',
    sample: readFileSync(join(FIXTURES, 'openssh-rsa.pub')),
    load: (input) => loadPublicKey(input),
    writes: [{ file: 'public.pem', as: 'public' }],
    publicKey: openSshPublic
  }
]

for (const c of cases) {
  t.test(`${c.name}: every suggested command writes a usable key and keeps its input`, async (t) => {
    const message = messageOf(() => c.load(c.sample))
    const commands = commandsIn(message)
    t.equal(commands.length, c.writes.length, `the message suggests ${c.writes.length} command(s): ${message}`)
    commands.forEach((command, i) => {
      const want = c.writes[i] as Case['writes'][number]
      const dir = mkdtempSync(join(tmpdir(), 'cf-hints-'))
      t.teardown(() => rmSync(dir, { recursive: true, force: true }))
      writeFileSync(join(dir, c.file), c.sample)
      // As a private key is kept; the commands must work on it as it is.
      chmodSync(join(dir, c.file), 0o600)
      if (i === 0) t.ok(command.includes(c.file), `the command converts the sample's file (${command})`)
      const before = snapshot(dir)
      execFileSync('/bin/sh', ['-c', command], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` } })
      const after = snapshot(dir)
      for (const [name, bytes] of before) t.ok(after.get(name)?.equals(bytes), `${name} is untouched by \`${command}\``)
      const written = after.get(want.file)
      t.ok(written !== undefined && !before.has(want.file), `\`${command}\` writes the new file ${want.file}`)
      const loaded = want.as === 'private' ? loadPrivateKey(written) : loadPublicKey(written)
      t.equal(loaded.type, 'rsa', 'the library accepts it')
      if (i === 0) {
        const pub = want.as === 'private' ? createPublicKey(loaded.key) : loaded.key
        t.ok(pub.equals(c.publicKey), 'it is the same key')
      }
    })
  })
}

t.test('the valid twins: a clean PEM of each key is accepted without a hint', async (t) => {
  t.equal(loadPrivateKey(rsaKey.privatePem).type, 'rsa')
  t.equal(loadPublicKey(rsaKey.publicPem).type, 'rsa')
  t.equal(loadPrivateKey(Buffer.from(rsaKey.privatePem)).type, 'rsa')
})
