// Starts the whole example on localhost: the app (Fastify + fastify-cloudfront-cookies) and the
// local CloudFront edge in front of example/media/, trusting the app's public key.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { templateManifests } from 'fastify-cloudfront-cookies'
import { createEdgeServer } from 'fastify-cloudfront-cookies/edge'
import { buildApp } from './app.js'
import { STATIC_ROOT } from './catalogue.js'
import { ensureDevKeys } from './keys.js'

export interface ExampleOptions {
  /** Default 3000; 0 picks a free port. */
  appPort?: number
  /** Default 3001; 0 picks a free port. */
  edgePort?: number
  /** Lifetime of a grant in seconds. Default 6: the 16-second stream outlives two grants, so renewals are seen in use. */
  ttl?: number
  /** Where the development key pair is kept (created on first run). Default example/.keys. */
  keysDir?: string
  /** The clock (milliseconds) of both the app and the edge. Default Date.now. */
  now?: () => number
  /** One line per grant, revocation and refusal at the edge; silent when absent. */
  log?: (line: string) => void
}

export interface RunningExample {
  /** The page to open: `http://localhost:3000`. */
  appUrl: string
  /** The edge: `http://localhost:3001`. */
  edgeUrl: string
  keyPairId: string
  /** Where the key pair is, and whether this start created it. */
  keysDir: string
  keysCreated: boolean
  close: () => Promise<void>
}

export const mediaRoot = join(__dirname, 'media')

/**
 * The edge's origin, as a bucket would hold it: the course folders of example/media/ (linked, not
 * copied) and their static manifests' copy under /static/, templated now for this key pair (as
 * `cloudfront-cookies manifests template` does before publishing). In a folder of its own per start:
 * the templates name the key pair ID, which differs between key folders.
 */
async function publishMedia (keyPairId: string): Promise<{ root: string, templates: string }> {
  const root = mkdtempSync(join(tmpdir(), 'cf-example-edge-'))
  try {
    const templates = join(root, ...STATIC_ROOT.split('/'), 'courses')
    await templateManifests(join(mediaRoot, 'courses'), templates, { keyPairId })
    // 'junction': a directory link that Windows allows without privileges; ignored elsewhere.
    symlinkSync(join(mediaRoot, 'courses'), join(root, 'courses'), 'junction')
    return { root, templates }
  } catch (err) {
    rmSync(root, { recursive: true, force: true })
    throw err
  }
}

function listen (server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

export async function startExample (options: ExampleOptions = {}): Promise<RunningExample> {
  const host = 'localhost'
  const log = options.log
  const keysDir = options.keysDir ?? join(__dirname, '.keys')
  const keys = ensureDevKeys(keysDir)
  const published = await publishMedia(keys.keyPairId)
  const unpublish = (): void => rmSync(published.root, { recursive: true, force: true })

  // The app signs grants for the edge's URL, and the edge lets the app's pages read its responses
  // (CORS): each must know the other's address before it starts. So the edge's socket is bound
  // first (with port 0, that is when its port becomes known) and handed to the edge's Fastify below.
  const edgeSocket = createServer()
  let edgeUrl
  try {
    edgeUrl = `http://${host}:${await listen(edgeSocket, options.edgePort ?? 3001, host)}`
  } catch (err) {
    unpublish()
    throw err
  }

  let app
  try {
    app = await buildApp({
      edgeUrl,
      keyPairId: keys.keyPairId,
      privateKey: keys.privateKey,
      templates: published.templates,
      ttl: options.ttl ?? 6,
      ...(options.now ? { now: options.now } : {}),
      ...(log ? { log } : {})
    })
    await app.listen({ port: options.appPort ?? 3000, host })
  } catch (err) {
    edgeSocket.close()
    await app?.close()
    unpublish()
    throw err
  }
  const appUrl = `http://${host}:${(app.server.address() as AddressInfo).port}`

  let edge
  try {
    edge = await createEdgeServer({
      keys: { [keys.keyPairId]: keys.publicKey },
      origin: { root: published.root },
      // The player page is on the app's origin: it may read the edge's answers, with cookies.
      cors: { origins: [appUrl] },
      // Adds x-cloudfront-edge-reason to refusals, to see why in the browser's network panel.
      debug: true,
      ...(options.now ? { now: options.now } : {}),
      ...(log ? { onDeny: (request, denial) => log(`edge  403 ${denial.code} for ${request.url}: ${denial.reason}`) } : {})
    }, {
      serverFactory: (handler) => edgeSocket.on('request', handler)
    })
    await edge.ready()
  } catch (err) {
    edgeSocket.close()
    await app.close()
    unpublish()
    throw err
  }

  return {
    appUrl,
    edgeUrl,
    keyPairId: keys.keyPairId,
    keysDir,
    keysCreated: keys.created,
    async close () {
      // The edge's Fastify did not listen itself, so its socket is closed here.
      await Promise.all([
        app.close(),
        edge.close(),
        new Promise<void>((resolve) => {
          edgeSocket.close(() => resolve())
          edgeSocket.closeAllConnections()
        })
      ])
      unpublish()
    }
  }
}
