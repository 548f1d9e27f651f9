import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../../src/engine/Engine.js";
import { Session, commonPrefixLength } from "../../src/engine/Session.js";
import { parseKvSpec } from "../../src/cache/spec.js";
import { ContextOverflowError } from "../../src/util/errors.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER } from "../support/paths.js";

/** The session API on stories260K: positions, blocked prefill, rollback, capacity. */
let engine: Engine;
before(async () => {
  engine = await Engine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 1);
});
after(() => engine.dispose());

const text =
  "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her big red ball. " +
  "One day, she saw a small dog near the tree. The dog was sad and alone, so Lily gave it some of her bread.";
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test("prefill in one call, in blocks of 64 and token by token give the same logits (fp32 cache)", () => {
  const ids = engine.tokenizer.encode(text, { addBos: true });
  assert.ok(ids.length > 64, `${ids.length} tokens`);
  const whole = Session.open(engine, parseKvSpec("fp32"));
  const blocked = Session.open(engine, parseKvSpec("fp32"));
  const stepped = Session.open(engine, parseKvSpec("fp32"));
  const a = Float32Array.from(whole.prefill(ids));
  // the model runs a call in blocks of 64 itself, so calls of 64 are the same products
  const b = Float32Array.from(blocked.prefill(ids, 64));
  let c = new Float32Array(0);
  for (const id of ids) c = Float32Array.from(stepped.step(id));
  assert.deepEqual(b, a);
  // matrix-vector products instead of matrix-matrix: equal up to float rounding
  assert.ok(maxAbsDiff(c, a) < 1e-4, `stepwise differs by ${maxAbsDiff(c, a)}`);
  for (const s of [whole, blocked, stepped]) {
    assert.equal(s.position, ids.length);
    assert.deepEqual(s.history(), ids);
    s.dispose();
  }
});

test("score hands every position's logits in order, equal to the prefill's last row", () => {
  const ids = engine.tokenizer.encode(text, { addBos: true }).subarray(0, 40);
  const session = Session.open(engine, parseKvSpec("fp32"));
  const rows: number[] = [];
  let last = new Float32Array(0);
  session.score(ids, 16, (i, logits) => {
    rows.push(i);
    last = Float32Array.from(logits);
  });
  assert.deepEqual(rows, Array.from({ length: 40 }, (_, i) => i));
  const reference = Session.open(engine, parseKvSpec("fp32"));
  assert.ok(maxAbsDiff(last, reference.prefill(ids)) < 1e-5);
  session.dispose();
  reference.dispose();
});

test("rollBack to a common prefix then feeding other tokens equals a fresh session on the new sequence", () => {
  const a = engine.tokenizer.encode("Once upon a time, there was a little dog named Max.", { addBos: true });
  const b = engine.tokenizer.encode("Once upon a time, there was a big cat named Tom.", { addBos: true });
  const keep = commonPrefixLength(a, b);
  assert.ok(keep > 3 && keep < a.length, `common prefix ${keep}`);
  const session = Session.open(engine, parseKvSpec("fp32"));
  session.prefill(a);
  assert.equal(session.rollBack(keep), keep);
  assert.equal(session.position, keep);
  const continued = Float32Array.from(session.prefill(b.subarray(keep)));
  const fresh = Session.open(engine, parseKvSpec("fp32"));
  const expected = fresh.prefill(b);
  assert.ok(maxAbsDiff(continued, expected) < 1e-5, `differs by ${maxAbsDiff(continued, expected)}`);
  assert.deepEqual(session.history(), b);
  session.dispose();
  fresh.dispose();
});

test("a cache that cannot roll back exactly is emptied instead (rollBack returns 0)", () => {
  const ids = engine.tokenizer.encode(text, { addBos: true });
  const session = Session.open(engine, parseKvSpec("h2o:budget=32"));
  assert.equal(session.exactRollback, false);
  session.prefill(ids);
  assert.equal(session.rollBack(10), 0);
  assert.equal(session.position, 0);
  assert.equal(session.cache.nextPos, 0);
  // rolling back to where the session already is changes nothing, whatever the cache
  session.prefill(ids.subarray(0, 5));
  assert.equal(session.rollBack(5), 5);
  session.dispose();
});

test("the capacity is enforced before any work, with a typed error", () => {
  const session = Session.open(engine, parseKvSpec("fp32"), 20);
  assert.equal(session.capacity, 20);
  session.prefill(engine.tokenizer.encode(text, { addBos: true }).subarray(0, 18));
  assert.equal(session.remaining, 2);
  assert.throws(() => session.prefill(Int32Array.of(5, 6, 7)), ContextOverflowError);
  assert.equal(session.position, 18, "a refused call feeds nothing");
  session.step(5);
  session.step(6);
  assert.throws(() => session.step(7), ContextOverflowError);
  assert.throws(() => session.rollBack(21), RangeError);
  session.dispose();
});
