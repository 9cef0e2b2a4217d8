// The command table: one entry per command, each command in its own file.
import type { Command } from './args.js'
import { keygen } from './keygen.js'
import { signCookies, signUrl } from './sign.js'
import { verify } from './verify.js'
import { edge } from './edge.js'
import { doctor } from './doctor.js'
import { setup } from './setup.js'
import { manifests } from './manifests.js'

export type { Command, Io } from './args.js'

export const COMMANDS: Record<string, Command> = {
  keygen,
  'sign-url': signUrl,
  'sign-cookies': signCookies,
  verify,
  doctor,
  edge,
  manifests,
  setup
}
