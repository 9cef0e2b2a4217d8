import t from 'tap'
import Fastify from 'fastify'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import fastifyCloudfrontCookies from '../../src/index.js'
import { options } from '../behaviour/options.js'

// Request clients resolve dot segments before sending; a hostile client does not.
// These requests go over a raw socket, byte for byte as written.
function rawGet (port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-user: alice\r\nConnection: close\r\n\r\n`)
    })
    let data = ''
    socket.on('data', (chunk) => { data += chunk.toString('latin1') })
    socket.on('end', () => resolve(data))
    socket.on('error', reject)
  })
}

t.test('dot segments and raw wildcards sent as is are answered 400, nothing issued', async (t) => {
  const app = Fastify()
  await app.register(fastifyCloudfrontCookies, options())
  app.get('/courses/:courseId/player', async () => 'ok')
  app.get('/courses/:courseId/:file', async () => 'ok')
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const port = (app.server.address() as AddressInfo).port
  for (const path of ['/courses/../player', '/courses/./player', '/courses/%2e%2e/player', '/courses/*/player', '/courses/4*/player']) {
    const res = await rawGet(port, path)
    t.match(res, /^HTTP\/1\.1 400 /, path)
    t.notMatch(res, /set-cookie/i, path)
  }
  const ok = await rawGet(port, '/courses/42/player')
  t.match(ok, /^HTTP\/1\.1 200 /)
  t.match(ok, /set-cookie: CloudFront-Policy=/i)
})
