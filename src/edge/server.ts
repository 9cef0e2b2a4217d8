import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { cloudfrontEdge } from './plugin.js'
import type { CloudFrontEdgeOptions } from './options.js'

/**
 * A Fastify instance that is nothing but the edge, registered and validated (a bad option
 * rejects here), ready for `listen`. `serverOptions` go to Fastify (logger, trustProxy, ...).
 */
export async function createEdgeServer (options: CloudFrontEdgeOptions,
  serverOptions: FastifyServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, ...serverOptions })
  try {
    await app.register(cloudfrontEdge, options)
  } catch (err) {
    await app.close()
    throw err
  }
  return app
}
