import { test } from "node:test";
import assert from "node:assert/strict";
import { AttentionWindow } from "../../../src/cache/qaq/AttentionWindow.js";
import { Rng } from "../../../src/util/rng.js";
import { assertConfigError } from "../../quant/assertConfigError.js";

/** One decode row at position T−1 over T tokens: probs[rep*T + t]. */
function decodeRow(T: number, nRep: number, value: (t: number, rep: number) => number): Float32Array {
  const probs = new Float32Array(nRep * T);
  for (let rep = 0; rep < nRep; rep++) for (let t = 0; t < T; t++) probs[rep * T + t] = value(t, rep);
  return probs;
}

function maxima(window: AttentionWindow, unit: number): number[] {
  const out = new Float32Array(window.tokens(unit));
  window.maxAttention(unit, out);
  return [...out];
}

/** A decoded observation is the upper edge of its eighth-of-an-octave bin: in [p, 1.125·p]. */
function assertCoded(actual: number | undefined, p: number, what: string): void {
  assert.ok(actual !== undefined && actual >= Math.fround(p) && actual <= 1.125 * p, `${what}: ${actual} does not code ${p}`);
}

function young(window: AttentionWindow, unit: number): number[] {
  const out = new Uint8Array(window.tokens(unit));
  window.youngTokens(unit, out);
  return [...out];
}

test("a token attended once keeps that score for exactly n steps, then falls back", () => {
  const n = 5;
  const window = new AttentionWindow(1, n, 1024);
  // decode steps at positions 0..19; token 0 gets 0.8 at step 8, 0.01 otherwise
  const seen: number[] = [];
  for (let pos = 0; pos < 20; pos++) {
    const T = pos + 1;
    window.observe(0, decodeRow(T, 1, (t) => (t === 0 ? (pos === 8 ? 0.8 : 0.01) : 0)), { firstPos: pos, nTok: 1, nRep: 1 }, T);
    seen.push(maxima(window, 0)[0]!);
  }
  for (let pos = 0; pos < 20; pos++) {
    // the 0.8 of step 8 is among the last 5 observations at steps 8..12
    const expected = pos >= 8 && pos < 8 + n ? 0.8 : 0.01;
    assertCoded(seen[pos], expected, `step ${pos}`);
  }
});

test("each observation is the max over the query heads sharing the KV head", () => {
  const window = new AttentionWindow(1, 3, 1024);
  window.observe(0, decodeRow(2, 3, (t, rep) => (t === 1 ? [0.1, 0.7, 0.2][rep]! : 0.05 * (rep + 1))), { firstPos: 1, nTok: 1, nRep: 3 }, 2);
  const [s0, s1] = maxima(window, 0);
  assertCoded(s0, 0.15, "token 0");
  assertCoded(s1, 0.7, "token 1");
});

test("a unit shared by two heads: the second observe of a block merges (max), counting no new observation", () => {
  const window = new AttentionWindow(1, 2, 1024);
  for (let pos = 0; pos < 4; pos++) {
    const T = pos + 1;
    const block = { firstPos: pos, nTok: 1, nRep: 1 };
    window.observe(0, decodeRow(T, 1, (t) => (t === 0 && pos === 1 ? 0.5 : 0.01)), block, T); // head 0
    window.observe(0, decodeRow(T, 1, (t) => (t === 0 && pos === 2 ? 0.25 : 0.02)), block, T); // head 1
    const s0 = maxima(window, 0)[0];
    // token 0's window (n = 2) holds rows pos−1 and pos, each the max over both heads
    const expected = pos === 1 || pos === 2 ? 0.5 : pos === 3 ? 0.25 : 0.02;
    assertCoded(s0, expected, `step ${pos}`);
    // token pos has been seen once (by its own row) however many heads observed: young until a second row
    assert.deepEqual(young(window, 0).slice(-1), [1]);
  }
  assert.deepEqual(young(window, 0), [0, 0, 0, 1]);
});

test("after a prefill of L tokens the last n−1 are young (seen by fewer than n rows)", () => {
  const n = 5;
  const L = 12;
  const window = new AttentionWindow(2, n, 1024);
  // causal uniform attention: row r attends 1/(r+1) to tokens 0..r
  const probs = new Float32Array(L * L);
  for (let r = 0; r < L; r++) for (let t = 0; t <= r; t++) probs[r * L + t] = 1 / (r + 1);
  window.observe(1, probs, { firstPos: 0, nTok: L, nRep: 1 }, L);
  // token p is seen by rows p..L−1, i.e. L − p rows: young iff L − p < 5, i.e. p ≥ 8
  assert.deepEqual(young(window, 1), [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
  // the window is the last 5 rows (7..11): token t's max is 1/(max(t,7)+1)
  maxima(window, 1).forEach((s, t) => assertCoded(s, 1 / (Math.max(t, 7) + 1), `token ${t}`));
  assert.equal(window.tokens(0), 0);
});

test("a prefill block is the same as its rows observed one by one", () => {
  const rng = new Rng(31);
  const n = 4;
  const nRep = 2;
  const blockWindow = new AttentionWindow(1, n, 1024);
  const rowWindow = new AttentionWindow(1, n, 1024);
  let pos = 0;
  for (const nTok of [7, 1, 3, 1, 1, 9, 2]) {
    const T = pos + nTok;
    const probs = new Float32Array(nTok * nRep * T);
    for (let tok = 0; tok < nTok; tok++) {
      for (let rep = 0; rep < nRep; rep++) for (let t = 0; t <= pos + tok; t++) probs[(tok * nRep + rep) * T + t] = rng.next();
    }
    blockWindow.observe(0, probs, { firstPos: pos, nTok, nRep }, T);
    for (let tok = 0; tok < nTok; tok++) {
      const rowT = pos + tok + 1;
      const row = new Float32Array(nRep * rowT);
      for (let rep = 0; rep < nRep; rep++) row.set(probs.subarray((tok * nRep + rep) * T, (tok * nRep + rep) * T + rowT), rep * rowT);
      rowWindow.observe(0, row, { firstPos: pos + tok, nTok: 1, nRep }, rowT);
    }
    pos = T;
    assert.deepEqual(maxima(blockWindow, 0), maxima(rowWindow, 0), `after ${pos} tokens`);
    assert.deepEqual(young(blockWindow, 0), young(rowWindow, 0), `after ${pos} tokens`);
  }
});

test("truncate forgets the dropped tokens; a re-appended token starts with an empty window", () => {
  const window = new AttentionWindow(1, 2, 1024);
  window.observe(0, new Float32Array([1, 0, 0, 0.5, 0.5, 0, 0.2, 0.3, 0.5]), { firstPos: 0, nTok: 3, nRep: 1 }, 3);
  assert.equal(window.tokens(0), 3);
  window.truncate(2);
  assert.equal(window.tokens(0), 2);
  window.observe(0, decodeRow(3, 1, (t) => (t === 2 ? 0.25 : 0.375)), { firstPos: 2, nTok: 1, nRep: 1 }, 3);
  // token 2 was re-appended: only its new observation counts; it has 1 < 2 observations, so it is young
  assertCoded(maxima(window, 0)[2], 0.25, "token 2");
  assert.deepEqual(young(window, 0), [0, 0, 1]);
  window.reset();
  assert.equal(window.tokens(0), 0);
});

test("codes: 0 stays 0, 1 stays 1, tiny probabilities vanish, and the order of probabilities is kept", () => {
  const window = new AttentionWindow(1, 1, 1024);
  const values = [0, 1e-12, 2 ** -31, 3e-7, 0.01, 0.5, 0.51, 0.999, 1];
  const T = values.length;
  window.observe(0, Float32Array.from(values), { firstPos: T - 1, nTok: 1, nRep: 1 }, T);
  const s = maxima(window, 0);
  assert.equal(s[0], 0);
  assert.equal(s[1], 0, "below 2^-31");
  assert.equal(s[T - 1], 1);
  for (let t = 2; t < T; t++) assertCoded(s[t], values[t]!, `p = ${values[t]}`);
  for (let t = 1; t < T; t++) assert.ok(s[t]! >= s[t - 1]!, "monotonic");
});

test("bad arguments fail with a ConfigError", () => {
  assertConfigError(() => new AttentionWindow(1, 0, 1024), "window", "1..64");
  const window = new AttentionWindow(1, 5, 1024);
  assertConfigError(() => window.observe(0, new Float32Array(4), { firstPos: 0, nTok: 1, nRep: 1 }, 4), "block", "firstPos + nTok");
  assertConfigError(() => window.observe(0, new Float32Array(2), { firstPos: 3, nTok: 1, nRep: 1 }, 4), "probs", "at least 4");
  assertConfigError(() => window.observe(3, new Float32Array(1), { firstPos: 0, nTok: 1, nRep: 1 }, 1), "unit", "0..0");
});

test("s_t is always the max of the token's last n observations (random decode steps, merges, a truncation)", () => {
  const n = 4;
  const nRep = 3;
  const window = new AttentionWindow(1, n, 256);
  const rng = new Rng(7);
  // independent model: every token's full history of observations (max over heads), the last n kept by slicing
  const history: number[][] = [];
  let pos = 0;
  for (let step = 0; step < 60; step++) {
    if (step === 40) {
      pos = 20; // truncate to 20 tokens: later tokens are forgotten and re-appended with empty windows
      window.truncate(pos);
      history.length = pos;
    }
    const T = pos + 1;
    while (history.length < T) history.push([]);
    const probs = decodeRow(T, nRep, () => (rng.next() < 0.3 ? 0 : rng.next() ** 4));
    const block = { firstPos: pos, nTok: 1, nRep };
    window.observe(0, probs, block, T);
    // a second head of the same unit merges: slot values become the max over both heads
    const merged = decodeRow(T, nRep, () => rng.next() ** 6);
    window.observe(0, merged, block, T);
    for (let t = 0; t < T; t++) {
      let top = 0;
      for (let rep = 0; rep < nRep; rep++) top = Math.max(top, probs[rep * T + t]!, merged[rep * T + t]!);
      history[t]!.push(top);
    }
    const got = maxima(window, 0);
    for (let t = 0; t < T; t++) {
      const expected = Math.max(0, ...history[t]!.slice(-n));
      if (expected < 2 ** -31) assert.equal(got[t], 0, `step ${step} token ${t}`);
      else assertCoded(got[t], expected, `step ${step} token ${t}`);
    }
    pos++;
  }
});
