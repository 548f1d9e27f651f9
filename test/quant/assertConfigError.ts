import assert from "node:assert/strict";
import { ConfigError } from "../../src/util/errors.js";

/** Asserts that `fn` throws a ConfigError for `field` whose message contains `allowedFragment`. */
export function assertConfigError(fn: () => unknown, field: string, allowedFragment: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.field, field);
    assert.ok(error.message.includes(allowedFragment), `"${error.message}" should mention "${allowedFragment}"`);
    return true;
  });
}
