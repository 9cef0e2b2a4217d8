// The pair harness of bench/playlists.mjs and bench/mpd.mjs: each server in its own child process
// (the bench script forked with `serve <scenario>`), fresh for every round; two of them served at the
// same moment, sharing CPU 0, each under its own autocannon on CPU 1, so the ratio of their req/s is
// the ratio of their costs. A name `<scenario>@base` is served by another build's own script.
import { execFileSync, fork } from 'node:child_process'
import { request } from 'node:http'
import autocannon from 'autocannon'

// taskset is Linux's; elsewhere the pairs run unpinned.
export const canPin = process.platform === 'linux' && (() => {
  try { execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }); return true } catch { return false }
})()
export function pin (pid, cpus) {
  if (canPin) execFileSync('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' })
}

/**
 * The child's side: listens, then answers the parent ('measure' starts the CPU count, 'stop' reports
 * it with the plugin's stats, 'exit' closes).
 */
export async function listenAndReport (app) {
  await app.listen({ port: 0, host: '127.0.0.1' })
  let cpu = null
  process.on('message', (msg) => {
    if (msg === 'measure') cpu = process.cpuUsage()
    if (msg === 'stop') {
      const used = process.cpuUsage(cpu)
      process.send({ cpuMicros: used.user + used.system, stats: app.cloudfront?.stats() ?? null })
    }
    if (msg === 'exit') app.close().then(() => process.exit(0))
  })
  process.send({ port: app.server.address().port })
}

/**
 * The parent's side. script: this build's bench script; base: the other build's (for `name@base`);
 * env: what every child gets besides process.env; target(scenario): { path, headers } of its request.
 */
export function pairHarness ({ script, base, env, target, connections, warmup, duration }) {
  async function start (name, cpus) {
    const [scenario, other] = name.split('@')
    const child = fork(other === 'base' ? base : script, ['serve', scenario], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } })
    const { port } = await new Promise((resolve) => child.once('message', resolve))
    pin(child.pid, cpus)
    const { path, headers } = target(scenario)
    return { name, child, url: `http://127.0.0.1:${port}${path}`, headers }
  }

  function run (s, seconds) {
    return new Promise((resolve, reject) => {
      autocannon({ url: s.url, connections, duration: seconds, headers: s.headers }, (err, result) => (err ? reject(err) : resolve(result)))
    })
  }

  async function stop (s) {
    const done = new Promise((resolve) => s.child.once('message', resolve))
    s.child.send('stop')
    const report = await done
    s.child.send('exit')
    await new Promise((resolve) => s.child.once('exit', resolve))
    return report
  }

  /** a and b served at the same time on CPU 0: req/s, server CPU per request and stats of each. */
  async function pair (a, b) {
    const servers = [await start(a, '0'), await start(b, '0')]
    await Promise.all(servers.map((s) => run(s, warmup)))
    for (const s of servers) s.child.send('measure')
    const results = await Promise.all(servers.map((s) => run(s, duration)))
    const reports = await Promise.all(servers.map(stop))
    results.forEach((r, i) => {
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`${servers[i].name}: ${r.non2xx} non-2xx, ${r.errors} errors`)
    })
    return results.map((r, i) => ({ rps: r.requests.average, cpuPerRequest: reports[i].cpuMicros / r.requests.total, stats: reports[i].stats }))
  }

  return { start, stop, pair }
}

/** One response as a client gets it: status, headers, bytes on the wire (the body as sent). */
export function fetchOnce (url, headers) {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }))
    }).on('error', reject).end()
  })
}

export const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
export const range = (values) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`
