import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'

export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
}

/**
 * One request with the path sent exactly as given (fetch and `new URL` would resolve
 * `%2e%2e` and re-encode, which is what these tests must avoid).
 */
export function rawGet (host: string, port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode as number, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** The CloudFront error code of a 403 XML body, or null. */
export function errorCode (body: Buffer): string | null {
  const m = /<Code>([A-Za-z]+)<\/Code>/.exec(body.toString('utf8'))
  return m ? m[1] as string : null
}

export function cookieHeader (cookies: Record<string, string | undefined>): string {
  return Object.entries(cookies).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v as string}`).join('; ')
}

export function rsaKeys (): { privateKey: KeyObject, publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 })
}

export function ecKeys (): { privateKey: KeyObject, publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
}

/** A temporary directory, removed when the test ends. */
export function tempDir (t: { teardown: (fn: () => void) => void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export async function listen (app: FastifyInstance, host = '127.0.0.1'): Promise<number> {
  await app.listen({ port: 0, host })
  return (app.server.address() as { port: number }).port
}
