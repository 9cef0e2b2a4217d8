// The example's development key pair, made on first run by the package's own CLI
// (`cloudfront-cookies keygen`) and kept in example/.keys/, out of git.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

export interface DevKeys {
  keyPairId: string
  privateKey: string
  publicKey: string
  /** True when this call made them. */
  created: boolean
}

export function ensureDevKeys (dir: string): DevKeys {
  const privatePath = join(dir, 'private.pem')
  const publicPath = join(dir, 'public.pem')
  const idPath = join(dir, 'key-id')
  const created = !existsSync(privatePath) || !existsSync(publicPath) || !existsSync(idPath)
  if (created) {
    // The same command a user runs: `npx cloudfront-cookies keygen --out <dir>`. It writes both PEM
    // files and prints the key ID, which the app signs with and the edge trusts.
    const manifest = require.resolve('fastify-cloudfront-cookies/package.json')
    const bin = join(dirname(manifest), (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> }).bin['cloudfront-cookies'] as string)
    const keyPairId = execFileSync(process.execPath, [bin, 'keygen', '--out', dir, '--force'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
    writeFileSync(idPath, keyPairId + '\n')
  }
  return {
    keyPairId: readFileSync(idPath, 'utf8').trim(),
    privateKey: readFileSync(privatePath, 'utf8'),
    publicKey: readFileSync(publicPath, 'utf8'),
    created
  }
}
