'use strict'

const neostandard = require('neostandard')

module.exports = neostandard({
  ts: true,
  // example/media holds MPEG-TS video segments, which share the .ts extension.
  ignores: [...neostandard.resolveIgnoresFromGitignore(), 'example/media/**']
})
