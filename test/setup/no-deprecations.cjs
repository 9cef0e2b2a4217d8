'use strict'
// A deprecation warning fails the test process that raised it. Fastify names its deprecations
// FastifyWarning with an FSTDEP code, so --throw-deprecation (DeprecationWarning only) misses them.
process.on('warning', (warning) => {
  const code = String(warning.code ?? '')
  if (warning.name === 'DeprecationWarning' || /^(FST)?DEP\d+$/.test(code)) {
    const err = new Error(`deprecation warning ${code}: ${warning.message}`)
    err.stack = `${err.message}\n${warning.stack ?? ''}`
    throw err
  }
})
