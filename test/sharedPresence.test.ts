import { test } from "node:test";
import assert from "node:assert/strict";
import { SHARED, SHARED_PRESENT } from "./support/paths.js";
import { SKIP_SHARED_REQUESTED } from "./support/sharedPolicy.js";

/**
 * The golden files and the data in ../shared are what many tests compare against. Their absence fails the run here,
 * with the remedy, instead of letting those tests skip in silence; QAQ_SKIP_SHARED=1 is the explicit opt-out.
 */
test("../shared is present, or skipping its tests was asked for with QAQ_SKIP_SHARED=1", (t) => {
  if (!SHARED_PRESENT && SKIP_SHARED_REQUESTED) {
    t.diagnostic(`../shared is absent (${SHARED}): the tests that need it are SKIPPED because QAQ_SKIP_SHARED=1`);
    return;
  }
  assert.ok(SHARED_PRESENT, `../shared is absent (expected at ${SHARED}): put the shared folder there, or run with QAQ_SKIP_SHARED=1 to skip the tests that need it`);
});
