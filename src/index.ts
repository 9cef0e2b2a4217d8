// Package root: the Fastify plugin (default and named export) and the documented core (./api.ts).
import { fastifyCloudfrontCookies } from './api.js'
export * from './api.js'
export { default } from './api.js'

// CommonJS: `require('fastify-cloudfront-cookies')` hands back the plugin itself, carrying every
// export as a property (as @fastify/* plugins do); the build writes the matching `export =` types.
// An ES module has no `module`: the ES build keeps its named and default exports.
declare const module: { exports: object } | undefined
if (typeof module === 'object' && module !== null && module.exports !== fastifyCloudfrontCookies) {
  module.exports = Object.assign(fastifyCloudfrontCookies, module.exports)
}
