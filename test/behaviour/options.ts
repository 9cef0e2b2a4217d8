import type { SharedOptions } from './hosts.js'
import { rsaKey } from '../helpers/keys.js'
import { DISTRIBUTION } from '../helpers/cookies.js'

interface WithHeaders { headers: Record<string, string | string[] | undefined> }

/** The user is whoever the `x-user` header names; no header, no user. */
export const userFromHeader = (req: unknown): string | undefined => {
  const v = (req as WithHeaders).headers['x-user']
  return typeof v === 'string' ? v : undefined
}

/** A clock the tests move by hand. */
export function manualClock (start = Date.UTC(2030, 0, 1)): { now: () => number, advance: (seconds: number) => void } {
  let t = start
  return { now: () => t, advance: (seconds) => { t += seconds * 1000 } }
}

export function options (overrides: Partial<SharedOptions> = {}): SharedOptions {
  return {
    keyPairId: rsaKey.keyPairId,
    privateKey: rsaKey.privatePem,
    distribution: DISTRIBUTION,
    rules: [{ match: '/courses/:courseId/*', resource: '/courses/:courseId/*' }],
    getUser: userFromHeader,
    // Most cases are about something else than who may have a course: any signed-in user may.
    authorize: 'any-signed-in-user',
    ...overrides
  }
}
