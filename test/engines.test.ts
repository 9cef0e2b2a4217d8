// The Node.js versions the package supports: package.json's engines, the majors CI runs the suite on
// (.ci/run), and the engines of every locked dependency must agree, or `npm ci` warns (EBADENGINE) on a
// Node the README calls supported.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

// npm's own range logic (semver, installed with fastify), the one that decides EBADENGINE.
const semver = createRequire(__filename)('semver') as {
  satisfies: (version: string, range: string) => boolean
  subset: (sub: string, dom: string) => boolean
  minVersion: (range: string) => { major: number } | null
}

const ROOT = join(__dirname, '..')
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean, optional?: boolean, engines?: { node?: string } }>
}
const engines = pkg.engines.node as string

/** The Node.js majors .ci/run tests when given none. */
function ciMajors (): number[] {
  const run = readFileSync(join(ROOT, '.ci', 'run'), 'utf8')
  const line = /^\[ \$\{#majors\[@\]\} -gt 0 \] \|\| majors=\(([\d ]+)\)$/m.exec(run)
  if (line === null) throw new Error('.ci/run: no default majors=(...) line')
  return (line[1] as string).trim().split(/\s+/).map(Number)
}

/** Locked packages whose engines.node leaves out `version`, as `name (range)`. */
function refusing (version: string, include: (entry: { dev?: boolean }) => boolean = () => true): string[] {
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && include(entry) && entry.engines?.node !== undefined && !semver.satisfies(version, entry.engines.node))
    .map(([path, entry]) => `${path.replace(/^.*node_modules\//, '')} (${entry.engines?.node})`)
}

t.test('the supported Node.js lines are 22 and 24: the oldest, 22, is the engines floor and CI\'s first', async (t) => {
  t.equal(engines, '>=22')
  const majors = ciMajors()
  t.same(majors, [22, 24], 'CI runs the suite on Node.js 22 and 24')
  t.equal(semver.minVersion(engines)?.major, Math.min(...majors), 'the oldest major CI runs is the one engines starts at')
  for (const major of majors) t.ok(semver.satisfies(`${major}.0.0`, engines), `engines accepts Node.js ${major}`)
})

t.test('every dependency installed for users accepts every Node.js the engines accept', async (t) => {
  const narrower = Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && !entry.dev && entry.engines?.node !== undefined && !semver.subset(engines, entry.engines.node))
    .map(([path, entry]) => `${path} (${entry.engines?.node})`)
  t.same(narrower, [], `production dependencies whose engines leave out part of ${engines}`)
  // The neighbouring case: the floor this replaced left out undici, which @fastify/reply-from installs.
  t.ok(Object.values(lock.packages).some((e) => !e.dev && e.engines?.node !== undefined && !semver.subset('>=20', e.engines.node)), 'a floor of 20 would not hold')
})

t.test('npm ci installs the whole lock without an engines warning on the current releases of each CI major', async (t) => {
  // Far ahead in each line: what .ci/node fetches (the newest of the major) is no newer.
  for (const major of ciMajors()) t.same(refusing(`${major}.99.0`), [], `Node.js ${major}`)
  // Node 20, no longer in support, is refused by cookie (light-my-request's, which fastify.inject uses).
  t.match(refusing('20.99.0'), [/^cookie \(>=22\)$/], 'Node.js 20 would be warned about')
})
