// The local CloudFront edge: a Fastify plugin that judges requests with the core verifier and
// serves them from a directory or an upstream server, for end-to-end tests without AWS.
import { cloudfrontEdge } from './plugin.js'

export { cloudfrontEdge, EDGE_REASON_HEADER, type CloudFrontEdgeHandle } from './plugin.js'
export { createEdgeServer } from './server.js'
export type {
  CloudFrontEdgeOptions, EdgeBehavior, EdgeOrigin, EdgeDirectoryOrigin, EdgeUpstreamOrigin, EdgeCorsOptions, EdgeDenial
} from './options.js'
export default cloudfrontEdge
