// Where the browser tests find a Chromium: CHROMIUM_PATH if set, else the usual names on PATH (Debian,
// Ubuntu, Fedora, Arch, Homebrew), else the macOS application bundles. playwright-core never downloads one.
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'

export const BROWSER_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome']
export const MACOS_BUNDLES = [
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'
]

export type BrowserLookup = { path: string, message?: undefined } | { path?: undefined, message: string }

export interface LookupOptions {
  env?: NodeJS.ProcessEnv
  platform?: NodeJS.Platform
  /** Where the macOS bundles are looked for (tests point it at a folder of their own). */
  applications?: string[]
}

function isExecutableFile (file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

export function findBrowser (options: LookupOptions = {}): BrowserLookup {
  const env = options.env ?? process.env
  const platform = options.platform ?? process.platform
  const given = env.CHROMIUM_PATH
  if (given !== undefined && given !== '') {
    // An explicit choice that does not work is reported, not replaced by another browser.
    return isExecutableFile(given)
      ? { path: given }
      : { message: `CHROMIUM_PATH=${given} is not an executable file: point it at a Chromium or Chrome binary, or unset it to search PATH.` }
  }
  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d !== '')
  for (const name of BROWSER_NAMES) {
    for (const dir of dirs) {
      const file = join(dir, name)
      if (isExecutableFile(file)) return { path: file }
    }
  }
  if (platform === 'darwin') {
    for (const file of options.applications ?? MACOS_BUNDLES) {
      if (isExecutableFile(file)) return { path: file }
    }
  }
  return {
    message: `No Chromium or Chrome found (looked for ${BROWSER_NAMES.join(', ')} on PATH` +
      (platform === 'darwin' ? ` and ${(options.applications ?? MACOS_BUNDLES).join(', ')}` : '') + '). ' +
      'The browser tests need one: install it (Debian/Ubuntu: `sudo apt-get install chromium`, which .ci/run does; ' +
      'Fedora: `sudo dnf install chromium`; macOS: `brew install --cask chromium`), or set CHROMIUM_PATH to its binary.'
  }
}
