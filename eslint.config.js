'use strict'

const neostandard = require('neostandard')

module.exports = [
  ...neostandard({
    ts: true,
    // example/media holds MPEG-TS video segments, which share the .ts extension.
    ignores: [...neostandard.resolveIgnoresFromGitignore(), 'example/media/**']
  }),
  {
    // A line of src/ fits a side-by-side diff; a URL in a comment is kept whole so that it can be followed.
    files: ['src/**/*.ts'],
    rules: {
      '@stylistic/max-len': ['error', { code: 120, ignoreUrls: true }]
    }
  }
]
