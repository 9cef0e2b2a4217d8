// The cfn-lint package checks each list item with util.isUndefined, which Node 22 deprecates at run
// time (a warning fails a test here) and Node 23 removed: given back with its documented meaning,
// before the linter loads.
import util from 'node:util'

Object.defineProperty(util, 'isUndefined', { value: (value: unknown) => value === undefined, writable: true, configurable: true })
