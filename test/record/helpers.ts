/** Shared helpers of the record tests. */
import assert from 'node:assert/strict'
import { isLp2pError } from '../../src/errors.js'

/** Runs `f`: 'value' when it returns, the code of the typed error it throws; anything else fails the test. */
export function outcomeOf (f: () => unknown): 'value' | string {
  try {
    f()
    return 'value'
  } catch (err) {
    assert.ok(isLp2pError(err), `not a typed error: ${String(err)}`)
    return err.code
  }
}
