import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Express } from 'express'

export interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

export interface Served {
  request: (path: string, opts?: { method?: string, headers?: Record<string, string> }) => Promise<Answer>
  close: () => Promise<void>
}

/** Listens on loopback and answers requests over real HTTP, one connection each. */
export async function serve (app: Express): Promise<Served> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => { if (err) reject(err); else resolve(s) })
  })
  const { port } = server.address() as AddressInfo
  return {
    request: (path, opts = {}) => new Promise<Answer>((resolve, reject) => {
      const r = httpRequest({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: false }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }))
        res.on('error', reject)
      })
      r.on('error', reject)
      r.end()
    }),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}
