// The README is read end to end: it stays short, its table of contents leads to its sections, and every relative
// link of the README and the pages of docs/ leads to a file that exists (and to a heading of it, where an anchor is
// given). Each page of docs/ says what it is for and leads back. One keep-alive URL is named everywhere: the one
// the example app serves.
import t from 'tap'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative, resolve } from 'node:path'

const ROOT = resolve(__dirname, '..', '..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const DOCS = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)
const PAGES = ['README.md', ...DOCS]
const MAX_README_BYTES = 40_000

/** The text outside fenced code blocks, line by line (code lines become empty, so line numbers hold). */
function prose (text: string): string[] {
  let fence: string | null = null
  return text.split('\n').map((line) => {
    const m = /^\s*(`{3,}|~{3,})/.exec(line)
    if (m !== null) {
      if (fence === null) fence = m[1] as string
      else if ((m[1] as string).startsWith(fence)) fence = null
      return ''
    }
    return fence === null ? line : ''
  })
}

/** GitHub's anchor of a heading: lower case, links reduced to their text, punctuation dropped, spaces as hyphens. */
function slug (heading: string): string {
  return heading.trim().replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '').replace(/ /g, '-')
}

/** Every anchor a page's headings make, with GitHub's -1, -2 for repeated ones. */
function anchors (text: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const line of prose(text)) {
    const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line)
    if (m === null) continue
    const base = slug(m[1] as string)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

/** The targets of a page's inline links and images, outside code; a link's text may run over two lines. */
function links (text: string): string[] {
  const outside = prose(text).map((line) => line.replace(/`[^`]*`/g, '')).join('\n')
  return [...outside.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1] as string)
}

t.test('the README is short enough to read end to end', async (t) => {
  const bytes = Buffer.byteLength(README)
  t.ok(bytes < MAX_README_BYTES, `README.md is ${bytes} bytes, under ${MAX_README_BYTES}: longer topics belong in docs/`)
})

t.test('the README has a table of contents, which leads to every section', async (t) => {
  const lines = prose(README)
  const start = lines.indexOf('## Contents')
  t.ok(start > 0, 'a "## Contents" section')
  const end = lines.findIndex((line, i) => i > start && line.startsWith('## '))
  const toc = lines.slice(start + 1, end).join('\n')
  const targets = [...toc.matchAll(/\]\((#[^)]+)\)/g)].map((m) => (m[1] as string).slice(1))
  const headings = anchors(README)
  t.ok(targets.length >= 8, `it lists the sections (${targets.length} links)`)
  for (const target of targets) t.ok(headings.has(target), `#${target} is a heading of the README`)
  const sections = lines.filter((line) => /^## /.test(line) && line !== '## Contents').map((line) => slug(line.slice(3)))
  for (const section of sections) t.ok(targets.includes(section), `section #${section} is in the table of contents`)
  const first = lines.findIndex((line) => /^## /.test(line))
  t.equal(first, start, 'the table of contents comes before every section')
  const order = ['install', 'quick-start', 'usage-with-fastify', 'usage-with-express', 'options', 'api', 'error-codes']
  const positions = order.map((s) => sections.indexOf(s))
  t.notOk(positions.includes(-1), `the README has the sections ${order.join(', ')}`)
  t.same(positions, [...positions].sort((a, b) => a - b), 'install, quick start, usage, options, API and errors come in that order')
})

t.test('every relative link of the README and docs/ leads to a file, and to a heading where it names one', async (t) => {
  const headingsOf = new Map<string, Set<string>>()
  const headings = (file: string): Set<string> => {
    let found = headingsOf.get(file)
    if (found === undefined) headingsOf.set(file, found = anchors(readFileSync(file, 'utf8')))
    return found
  }
  let checked = 0
  for (const page of PAGES) {
    for (const link of links(readFileSync(join(ROOT, page), 'utf8'))) {
      if (/^[a-z][a-z+.-]*:/i.test(link)) continue // https:, mailto:: not this repository's files
      checked++
      const [path = '', anchor] = link.split('#')
      const file = path === '' ? join(ROOT, page) : normalize(join(ROOT, dirname(page), decodeURIComponent(path)))
      const shown = `${page}: ${link}`
      if (relative(ROOT, file).startsWith('..')) {
        t.fail(`${shown} leaves the repository`)
        continue
      }
      if (!existsSync(file)) {
        t.fail(`${shown}: ${relative(ROOT, file)} does not exist`)
        continue
      }
      if (anchor === undefined) {
        t.pass(shown)
        continue
      }
      t.ok(statSync(file).isFile() && file.endsWith('.md') && headings(file).has(anchor), `${shown}: #${anchor} is a heading of ${relative(ROOT, file)}`)
    }
  }
  t.ok(checked > 40, `relative links were found and checked (${checked})`)
})

t.test('each page of docs/ says what it is for in one line, and leads back to the README', async (t) => {
  t.ok(DOCS.length >= 8, `the guides are in docs/ (${DOCS.length} pages)`)
  const linked = new Set(links(README).map((l) => l.split('#')[0]))
  for (const page of DOCS) {
    const [title = '', blank, purpose = '', after] = readFileSync(join(ROOT, page), 'utf8').split('\n')
    t.match(title, /^# \S/, `${page} starts with its title`)
    t.ok(blank === '' && after === '', `${page}: its purpose is one line of its own, under the title`)
    t.match(purpose, /\[[^\]]+\]\(\.\.\/README\.md\)/, `${page}: that line leads back to the README`)
    t.ok(linked.has(page), `the README links to ${page}`)
  }
})

t.test('one keep-alive URL everywhere: the route the example app serves', async (t) => {
  const app = readFileSync(join(ROOT, 'example', 'app.ts'), 'utf8')
  const route = /app\.post[^(]*\('([^']*\/progress)'/.exec(app)?.[1]
  t.equal(route, '/courses/:courseId/progress', 'the example app posts progress to /courses/:courseId/progress')
  const forms = new Set([route, '/courses/42/progress'])
  const files = [...PAGES, ...readdirSync(join(ROOT, 'example', 'readme')).map((f) => `example/readme/${f}`)]
  let found = 0
  for (const file of files) {
    for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(/[\w:/<>${}.-]*\/progress\b[\w/:-]*/g)) {
      found++
      t.ok(forms.has(m[0]), `${file}: ${m[0]} is the example's keep-alive route`)
    }
  }
  t.ok(found >= 4, `the keep-alive URL is named in the README, docs/ and the examples (${found} times)`)
  for (const file of ['example/readme/fastify.mjs', 'example/readme/express.mjs']) {
    t.match(readFileSync(join(ROOT, file), 'utf8'), `app.post('${route}'`, `${file} serves it`)
  }
  t.match(README, "url: '/courses/42/progress'", "the README's browser snippet posts to it")
})
