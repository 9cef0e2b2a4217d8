import t from 'tap'
import { createSigner } from '../../src/index.js'
t.test('smoke', async (t) => {
  t.equal(typeof createSigner, 'function')
})
