// No folder of src/ imports a folder that imports it back, directly or through others: each folder
// can be read, tested and changed knowing only what it imports. Type imports count too.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join, posix, relative, sep } from 'node:path'

const SRC = join(__dirname, '..', '..', 'src')

/** Every .ts file under a directory, as paths relative to it (with "/"). */
function sourceFiles (root: string): string[] {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.ts')) out.push(relative(root, path).split(sep).join('/'))
    }
  }
  walk(root)
  return out
}

// `import x from`, `import type { X } from`, `export { x } from`, `export * from`, `import('...')`:
// every specifier in quotes after `from`, or in import(...).
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)['"]([^'"]+)['"]/gm

/** The folder each folder of a source tree imports (relative imports only: packages are not folders of src/). */
export function folderImports (root: string): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>()
  for (const file of sourceFiles(root)) {
    const from = posix.dirname(file)
    const text = readFileSync(join(root, file), 'utf8')
    for (const match of text.matchAll(SPECIFIER)) {
      const spec = match[1] as string
      if (!spec.startsWith('.')) continue
      const to = posix.dirname(posix.normalize(posix.join(from, spec)))
      if (to === from) continue
      let edges = graph.get(from)
      if (edges === undefined) graph.set(from, edges = new Set())
      edges.add(to)
    }
  }
  return graph
}

/** The groups of folders that reach each other through their imports (strongly connected, two or more). */
export function folderCycles (graph: Map<string, Set<string>>): string[][] {
  let index = 0
  const indexOf = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  const visit = (v: string): void => {
    indexOf.set(v, index)
    low.set(v, index++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, indexOf.get(w) as number))
    }
    if (low.get(v) === indexOf.get(v)) {
      const group: string[] = []
      let w: string
      do {
        w = stack.pop() as string
        onStack.delete(w)
        group.push(w)
      } while (w !== v)
      if (group.length > 1) cycles.push(group.sort())
    }
  }
  for (const v of graph.keys()) if (!indexOf.has(v)) visit(v)
  return cycles
}

t.test('no folder of src/ imports a folder that imports it back', async (t) => {
  const graph = folderImports(SRC)
  t.ok((graph.get('core/grants')?.size ?? 0) > 0, 'imports are read (the check can see them)')
  t.strictSame(folderCycles(graph), [])
})

t.test('the check finds a cycle, direct or through a third folder, type imports included', async (t) => {
  const direct = new Map([['a', new Set(['b'])], ['b', new Set(['a'])]])
  t.strictSame(folderCycles(direct), [['a', 'b']])
  const through = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]])
  t.strictSame(folderCycles(through), [['a', 'b', 'c']])
  t.strictSame(folderCycles(new Map([['a', new Set(['b'])], ['b', new Set(['c'])]])), [], 'one way is fine')
  const typeOnly = "import type { X } from '../b/x.js'\nexport { y } from '../c/y.js'\nconst z = await import('../d/z.js')\n"
  t.strictSame([...typeOnly.matchAll(SPECIFIER)].map((m) => m[1]), ['../b/x.js', '../c/y.js', '../d/z.js'])
})
