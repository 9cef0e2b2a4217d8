// The README's complete examples, run for real: each is a file in example/readme/, the README's block must be
// that file byte for byte, the line above it must name what it needs, and the file is started as a user would
// (node file.mjs, with the environment variables), signed in to, asked, and its cookies checked.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createVerifier } from '../../src/index.js'

const ROOT = resolve(__dirname, '..', '..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const DISTRIBUTION = 'https://media.example.com'
const KEY_PAIR_ID = 'K2JCJMDEHXQW5F'
const ENV = ['CLOUDFRONT_KEY_PAIR_ID', 'CLOUDFRONT_PRIVATE_KEY_PATH', 'CLOUDFRONT_DISTRIBUTION', 'SESSION_SECRET']

/** `<!-- file: path -->`, the fenced block after it, and the prose line before the marker. */
function readmeBlocks (): Map<string, { code: string, needs: string }> {
  const blocks = new Map<string, { code: string, needs: string }>()
  for (const m of README.matchAll(/([^\n]*)\n\n?<!-- file: (\S+) -->\n```js\n([\s\S]*?)```\n/g)) {
    blocks.set(m[2] as string, { needs: m[1] as string, code: m[3] as string })
  }
  return blocks
}

t.test('each README example is a file of the repo, and says what it needs', async (t) => {
  const blocks = readmeBlocks()
  const files = readdirSync(join(ROOT, 'example', 'readme')).filter((f) => f.endsWith('.mjs')).map((f) => `example/readme/${f}`)
  t.same([...blocks.keys()].sort(), files.sort(), 'one README block per file in example/readme/, and no other')
  for (const [file, { code, needs }] of blocks) {
    const source = readFileSync(join(ROOT, file), 'utf8')
    t.equal(code, source, `${file}: the README's block is the file, byte for byte`)
    t.match(needs, /ESM/, `${file}: the line above says it is ESM`)
    const packages = [...source.matchAll(/^import .* from '([^.][^']*)'$/gm)]
      .map((m) => (m[1] as string).split('/').slice(0, (m[1] as string).startsWith('@') ? 2 : 1).join('/'))
      .filter((p) => !p.startsWith('node:'))
    t.ok(packages.length > 0, `${file} imports packages`)
    const install = /`npm install ([^`]+)`/.exec(needs)?.[1]?.split(' ') ?? []
    t.same([...new Set(packages)].sort(), [...install].sort(), `${file}: its install line names exactly the packages it imports`)
    const variables = [...new Set([...source.matchAll(/\b(CLOUDFRONT_[A-Z_]+|SESSION_SECRET)\b/g)].map((m) => m[1]))]
    t.same(variables.sort(), [...ENV].sort(), `${file}: the environment variables follow one naming scheme`)
    for (const name of ENV) t.match(needs, `\`${name}\``, `${file}: the line above names ${name}`)
  }
})

interface Running { url: string, output: () => string, stop: () => Promise<void> }

function run (file: string, env: Record<string, string | undefined>): Promise<{ code: number | null, output: string }> & { started: Promise<Running> } {
  const child = spawn(process.execPath, [join(ROOT, file)], {
    cwd: ROOT,
    env: { ...env, PATH: process.env.PATH, _TAPJS_PROCESSINFO_COVERAGE_: '0' } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  const exited = new Promise<{ code: number | null, output: string }>((resolve) => child.once('exit', (code) => resolve({ code, output })))
  const started = new Promise<Running>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill(); reject(new Error(`${file} did not start in 30 s:\n${output}`)) }, 30_000)
    child.stdout.on('data', () => {
      const m = /Listening on (http:\/\/\S+)/.exec(output)
      if (m === null) return
      clearTimeout(timer)
      resolve({
        url: (m[1] as string).replace('[::1]', 'localhost'),
        output: () => output,
        async stop () {
          if (child.exitCode === null) child.kill('SIGTERM')
          await exited
        }
      })
    })
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`${file} exited (${code}) before it started:\n${output}`)) })
  })
  started.catch(() => {}) // awaited by the tests that start it; the others only wait for the exit
  return Object.assign(exited, { started })
}

/** What a browser keeps: cookies by name and Path, sent back where the Path covers the request. */
class Jar {
  readonly cookies = new Map<string, { name: string, value: string, path: string }>()
  take (res: Response): string[] {
    const set = res.headers.getSetCookie()
    for (const line of set) {
      const [pair = '', ...attrs] = line.split(';').map((s) => s.trim())
      const name = pair.slice(0, pair.indexOf('='))
      const path = attrs.find((a) => /^path=/i.test(a))?.slice(5) ?? '/'
      const expires = attrs.find((a) => /^expires=/i.test(a))?.slice(8)
      const gone = attrs.some((a) => /^max-age=0$/i.test(a)) || (expires !== undefined && Date.parse(expires) <= Date.now())
      if (gone) this.cookies.delete(`${name};${path}`)
      else this.cookies.set(`${name};${path}`, { name, value: pair.slice(name.length + 1), path })
    }
    return set
  }

  header (path: string): string {
    return [...this.cookies.values()].filter((c) => path.startsWith(c.path)).map((c) => `${c.name}=${c.value}`).join('; ')
  }

  cloudfront (path: string): string[] {
    return [...this.cookies.values()].filter((c) => c.path === path && c.name.startsWith('CloudFront-')).map((c) => c.name).sort()
  }
}

const SET = ['CloudFront-Key-Pair-Id', 'CloudFront-Policy', 'CloudFront-Signature']

async function exercise (t: Test, file: string, env: Record<string, string>, publicKey: string): Promise<void> {
  const app = await run(file, env).started
  t.teardown(() => app.stop())
  const jar = new Jar()
  const ask = async (method: string, path: string, body?: unknown): Promise<{ res: Response, set: string[], text: string }> => {
    const headers: Record<string, string> = { cookie: jar.header(path) }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await fetch(app.url + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), redirect: 'manual' })
    const set = jar.take(res)
    return { res, set, text: await res.text() }
  }
  const verifier = createVerifier({ keys: { [KEY_PAIR_ID]: publicKey } })
  const opens = (url: string, path: string): boolean => verifier.verify({ url: DISTRIBUTION + url, cookieHeader: jar.header(path) }).ok

  const anonymous = await ask('GET', '/courses/42/player')
  t.equal(anonymous.res.status, 200, 'the player route answers a visitor')
  t.same(anonymous.set.filter((c) => c.startsWith('CloudFront-')), [], 'but grants nothing without a user')
  t.equal((await ask('POST', '/api/progress/42')).res.status, 401, 'the keep-alive route answers a visitor 401')

  t.equal((await ask('POST', '/login', { user: 'alice' })).res.status, 200, 'alice signs in')
  const player = await ask('GET', '/courses/42/player')
  t.equal(player.res.status, 200)
  t.same(JSON.parse(player.text), { playlist: `${DISTRIBUTION}/courses/42/index.m3u8` })
  t.same(jar.cloudfront('/courses/42/'), SET, 'her course: the cookie set, Path=/courses/42/')
  t.ok(opens('/courses/42/index.m3u8', '/courses/42/'), 'which CloudFront would accept for the course')
  t.notOk(opens('/courses/43/index.m3u8', '/courses/42/'), 'and for that course only')
  t.match(player.res.headers.get('cache-control'), /private/, 'never stored by a shared cache')

  const others = await ask('GET', '/courses/43/player')
  t.equal(others.res.status, 200, "bob's course page opens")
  t.same(others.set.filter((c) => c.startsWith('CloudFront-')), [], 'but grants nothing: authorize checked the owner')

  const book = await ask('GET', '/api/audiobooks/7/open')
  t.equal(book.res.status, 200)
  t.same(jar.cloudfront('/audiobooks/7/'), SET, 'the audiobook route grants the book')
  t.ok(opens('/audiobooks/7/chapter-01.mp3', '/audiobooks/7/'), 'which CloudFront would accept')
  const expires = Number(book.res.headers.get('cloudfront-grant-expires'))
  t.ok(Math.abs(expires - (Date.now() / 1000 + 1800)) < 60, 'for 30 minutes')

  const progress = await ask('POST', '/api/progress/42')
  t.equal(progress.res.status, 200, 'the keep-alive route grants her course')
  t.ok(Number(progress.res.headers.get('cloudfront-grant-expires')) > Date.now() / 1000, 'and says until when')
  t.match(JSON.parse(progress.text), { prefix: '/courses/42/', expires: Number })
  t.strictSame(Object.keys(JSON.parse(progress.text)), ['prefix', 'expires'], 'and nothing signed: the page\'s scripts never see the set')
  const stolen = await ask('POST', '/api/progress/43')
  t.equal(stolen.res.status, 403, "the keep-alive route refuses bob's course")
  t.same(stolen.set.filter((c) => c.startsWith('CloudFront-')), [], 'with no cookies')

  const notes = await ask('GET', '/api/courses/42/notes')
  t.equal(notes.res.status, 200)
  const signed = JSON.parse(notes.text).url as string
  t.ok(verifier.verify({ url: signed }).ok, 'a signed URL for her notes, which CloudFront would accept')
  t.equal((await ask('GET', '/api/courses/43/notes')).res.status, 403, "none for bob's")

  const hostile = await ask('GET', '/courses/4%2A2/player')
  t.equal(hostile.res.status, 400, 'a hostile parameter is answered 400')
  t.equal(hostile.text.split('\n').length, 1, 'in one line')
  t.match(JSON.parse(hostile.text), { code: 'FST_ERR_CF_INVALID_PARAM', message: /not allowed/ }, 'that says why')
  t.notMatch(hostile.text + app.output(), /\bat |\.[jt]s:\d+/, 'with no stack, in the answer or the log')

  const logout = await ask('POST', '/logout')
  t.equal(logout.res.status, 200, 'she signs out')
  t.same(jar.cloudfront('/courses/42/'), [], 'the course cookies are cleared')
  t.same(jar.cloudfront('/audiobooks/7/'), [], 'and the audiobook cookies')
  t.same((await ask('GET', '/courses/42/player')).set.filter((c) => c.startsWith('CloudFront-')), [], 'nothing is granted after sign-out')
}

t.test('the examples run as the README says', async (t) => {
  if (!existsSync(join(ROOT, 'dist', 'esm', 'index.js'))) {
    t.fail('the examples import the package by its name, which resolves to dist/: run `npm run build` first')
    return
  }
  const dir = mkdtempSync(join(tmpdir(), 'cf-readme-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const keyFile = join(dir, 'private.pem')
  writeFileSync(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 })
  const publicKey = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString()
  const env = {
    CLOUDFRONT_KEY_PAIR_ID: KEY_PAIR_ID,
    CLOUDFRONT_PRIVATE_KEY_PATH: keyFile,
    CLOUDFRONT_DISTRIBUTION: DISTRIBUTION,
    SESSION_SECRET: 'a-long-random-string-for-signing-sessions',
    PORT: '0'
  }

  for (const file of ['example/readme/fastify.mjs', 'example/readme/express.mjs']) {
    await t.test(`${file}: without its environment variables, one line that names them`, async (t) => {
      const { code, output } = await run(file, { PORT: '0' })
      t.equal(code, 1, 'exits with status 1')
      t.equal(output.trim().split('\n').length, 1, `one line: ${output.trim()}`)
      for (const name of ENV) t.match(output, name, `names ${name}`)
      t.notMatch(output, /readFileSync|ENOENT|\n\s+at /, 'no crash inside readFileSync, no stack')
    })
    for (const nodeEnv of [undefined, 'production']) {
      await t.test(`${file} with NODE_ENV ${nodeEnv ?? 'unset'}: sign in, ask, check the cookies`, async (t) => {
        await exercise(t, file, { ...env, ...(nodeEnv === undefined ? {} : { NODE_ENV: nodeEnv }) }, publicKey)
      })
    }
  }
})
