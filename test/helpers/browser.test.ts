// The browser lookup the browser tests share, over real files and a real PATH.
import t from 'tap'
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { BROWSER_NAMES, findBrowser } from './browser.js'
import { tempDir } from '../edge/helpers.js'

const dir = tempDir(t, 'cf-browser-lookup-')

function executable (path: string, mode = 0o755): string {
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, '#!/bin/sh\n')
  chmodSync(path, mode)
  return path
}

const fedora = executable(join(dir, 'fedora', 'chromium-browser'))
const debian = executable(join(dir, 'debian', 'chromium'))
const chrome = executable(join(dir, 'chrome', 'google-chrome'))
const notExecutable = executable(join(dir, 'plain', 'chromium'), 0o644)
mkdirSync(join(dir, 'folder', 'chromium'), { recursive: true })
const bundle = executable(join(dir, 'Applications', 'Chromium.app', 'Contents', 'MacOS', 'Chromium'))
const PATH = (...dirs: string[]): string => dirs.map((d) => join(dir, d)).join(delimiter)

t.test('CHROMIUM_PATH comes first, and a wrong one is reported rather than replaced', async (t) => {
  t.same(findBrowser({ env: { CHROMIUM_PATH: chrome, PATH: PATH('debian') } }), { path: chrome })
  const wrong = findBrowser({ env: { CHROMIUM_PATH: join(dir, 'nope'), PATH: PATH('debian') } })
  t.equal(wrong.path, undefined)
  t.match(wrong.message, /^CHROMIUM_PATH=.*nope is not an executable file/)
  t.match(findBrowser({ env: { CHROMIUM_PATH: notExecutable } }).message, /is not an executable file/)
  t.same(findBrowser({ env: { CHROMIUM_PATH: '', PATH: PATH('debian') } }), { path: debian }, 'an empty CHROMIUM_PATH is unset')
})

t.test('then the usual names on PATH, in the order of the names', async (t) => {
  t.same(findBrowser({ env: { PATH: PATH('fedora') }, platform: 'linux' }), { path: fedora }, "Fedora's chromium-browser")
  t.same(findBrowser({ env: { PATH: PATH('chrome', 'fedora', 'debian') }, platform: 'linux' }), { path: debian },
    'chromium before chromium-browser before google-chrome, wherever they are on PATH')
  t.same(findBrowser({ env: { PATH: PATH('plain', 'folder', 'chrome') }, platform: 'linux' }), { path: chrome },
    'a file without the execute bit, or a folder, is passed over')
})

t.test('then, on macOS, the application bundles', async (t) => {
  t.same(findBrowser({ env: { PATH: PATH('plain') }, platform: 'darwin', applications: [join(dir, 'nope.app'), bundle] }), { path: bundle })
  t.same(findBrowser({ env: { PATH: PATH('debian') }, platform: 'darwin', applications: [bundle] }), { path: debian }, 'PATH still first')
  const none = findBrowser({ env: { PATH: PATH('plain') }, platform: 'linux', applications: [bundle] })
  t.equal(none.path, undefined, 'bundles are looked for on macOS only')
})

t.test('none found: a message that says what was searched and how to fix it', async (t) => {
  const linux = findBrowser({ env: { PATH: PATH('plain') }, platform: 'linux' })
  t.equal(linux.path, undefined)
  for (const name of BROWSER_NAMES) t.match(linux.message, name)
  t.match(linux.message, /apt-get install chromium/)
  t.match(linux.message, /set CHROMIUM_PATH/)
  const mac = findBrowser({ env: {}, platform: 'darwin', applications: [join(dir, 'nope.app')] })
  t.match(mac.message, /nope\.app/)
  t.match(mac.message, /brew install --cask chromium/)
})
