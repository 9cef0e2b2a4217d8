'use strict'
// `npm test` measures coverage on the compiled package (dist/cjs, with tsc's source maps, reported
// against src/*.ts): the loader that runs TypeScript tests directly emits maps that coverage tools
// read as 100% covered. With CF_TEST_DIST=1, every module resolved into src/ is loaded from dist/cjs
// instead. Without it (a developer running one test file), tests load src/ directly.
if (process.env.CF_TEST_DIST === '1') {
  const Module = require('node:module')
  const path = require('node:path')
  const fs = require('node:fs')
  const root = path.resolve(__dirname, '..', '..')
  const src = path.join(root, 'src') + path.sep
  const dist = path.join(root, 'dist', 'cjs') + path.sep
  if (!fs.existsSync(dist)) throw new Error('CF_TEST_DIST=1 needs the build: run `npm run build` first')
  const resolve = Module._resolveFilename
  Module._resolveFilename = function (request, parent, isMain, options) {
    const file = resolve.call(this, request, parent, isMain, options)
    if (file.startsWith(src) && file.endsWith('.ts')) return dist + file.slice(src.length, -3) + '.js'
    return file
  }
}
