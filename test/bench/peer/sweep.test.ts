import { test } from "node:test";
import assert from "node:assert/strict";
import { ConfigError } from "../../../src/util/errors.js";
import { decodeToken, promptToken, runSweep, sweepCapacity, validateSweep, type SessionUnderTest } from "../../../src/bench/peer/sweep.js";

/** A session that records every feed and holds its "cache" as a list of (position, token). */
function recordingSession(vocabSize: number): { session: SessionUnderTest; feeds: { pos: number; tokens: number[] }[]; resets: () => number } {
  const feeds: { pos: number; tokens: number[] }[] = [];
  let held: number[] = [];
  let resets = 0;
  const session: SessionUnderTest = {
    vocabSize,
    reset: async () => {
      held = [];
      resets++;
    },
    feed: async (tokens, pos) => {
      assert.equal(pos, held.length, "every feed continues exactly where the context ends");
      feeds.push({ pos, tokens: Array.from(tokens) });
      held.push(...tokens);
      return 7;
    },
    kvBytes: () => held.length * 10,
    evalCounters: async () => null,
  };
  return { session, feeds, resets: () => resets };
}

test("prompt and decode tokens: BOS first, then ordinary ids (>= 259) below the vocabulary size", () => {
  assert.equal(promptToken(0, 512), 1);
  // 259 + (1·7919 mod 253) = 259 + 76; 259 + (2·104729 mod 253) = 259 + 227
  assert.equal(promptToken(1, 512), 335);
  assert.equal(decodeToken(2, 512), 486);
  for (let i = 1; i < 1000; i++) {
    assert.ok(promptToken(i, 512) >= 259 && promptToken(i, 512) < 512);
    assert.ok(decodeToken(i, 32000) >= 259 && decodeToken(i, 32000) < 32000);
  }
});

test("the protocol: repeated prefill from empty, then growth and decode blocks at each length", async () => {
  const shape = { prefillTokens: 4, contexts: [4, 10], decodeSteps: 2, repeats: 3 };
  const { session, feeds, resets } = recordingSession(512);
  const result = await runSweep(session, shape);
  assert.equal(resets(), 3);
  // 3 prefills of 4 tokens at 0; decode 3 x 2 steps at 4..9; growth is not needed (10 is reached by decode); 6 steps at 10..15
  const expected = [
    ...[0, 1, 2].map(() => ({ pos: 0, tokens: [1, 335, 411, 487] })),
    ...[4, 5, 6, 7, 8, 9].map((pos, step) => ({ pos, tokens: [decodeToken(step, 512)] })),
    ...[10, 11, 12, 13, 14, 15].map((pos, i) => ({ pos, tokens: [decodeToken(6 + i, 512)] })),
  ];
  assert.deepEqual(feeds, expected);
  assert.equal(result.nextTokenAfterPrefill, 7);
  assert.deepEqual(result.points.map((p) => p.contextTokens), [4, 10]);
  assert.deepEqual(result.points.map((p) => p.kvBytes), [100, 160]);
  assert.equal(result.prefillSamples.length, 3);
  assert.equal(result.points[0]!.decodeSamples.length, 3);
  assert.equal(result.points[0]!.internalDecodeTokensPerSecond, null);
  assert.equal(sweepCapacity(shape), 16);
});

test("the context grows with the next prompt tokens when a length is beyond the decode blocks", async () => {
  const { session, feeds } = recordingSession(512);
  await runSweep(session, { prefillTokens: 2, contexts: [2, 8], decodeSteps: 1, repeats: 1 });
  // prefill [0,2), decode at 2, growth [3, 8) with prompt tokens 3..7, decode at 8
  assert.deepEqual(feeds[2], { pos: 3, tokens: [3, 4, 5, 6, 7].map((i) => promptToken(i, 512)) });
  assert.deepEqual(feeds[3], { pos: 8, tokens: [decodeToken(1, 512)] });
});

test("sweeps that would overlap or are empty fail with a ConfigError naming the field", () => {
  assert.throws(() => validateSweep({ prefillTokens: 8, contexts: [4], decodeSteps: 1, repeats: 1 }), ConfigError);
  assert.throws(() => validateSweep({ prefillTokens: 4, contexts: [4, 6], decodeSteps: 2, repeats: 3 }), /sweep.contexts/);
  assert.throws(() => validateSweep({ prefillTokens: 4, contexts: [], decodeSteps: 2, repeats: 3 }), /sweep.contexts/);
  assert.throws(() => validateSweep({ prefillTokens: 4, contexts: [4], decodeSteps: 0, repeats: 3 }), /sweep.decodeSteps/);
  validateSweep({ prefillTokens: 4, contexts: [4, 10], decodeSteps: 2, repeats: 3 });
});
