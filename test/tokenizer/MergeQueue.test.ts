// The merge queue's pop order against a plain sort by (score descending, left position ascending).
import { test } from "node:test";
import assert from "node:assert/strict";
import { MergeQueue } from "../../src/tokenizer/MergeQueue.js";

test("pops by highest score, then smallest left position, across growth", () => {
  let state = 99;
  const random = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const queue = new MergeQueue(4); // small, so push() has to grow the arrays several times
  const entries: { score: number; left: number; mergedId: number }[] = [];
  for (let i = 0; i < 2000; i++) {
    const entry = { score: -Math.floor(random() * 20), left: Math.floor(random() * 500), mergedId: i };
    entries.push(entry);
    queue.push(entry.score, entry.left, entry.left + 1, i, i + 1, entry.mergedId);
  }
  assert.equal(queue.length, 2000);
  const expected = [...entries].sort((a, b) => b.score - a.score || a.left - b.left);
  for (const want of expected) {
    const got = queue.pop()!;
    assert.deepEqual([got.score, got.left], [want.score, want.left]);
    assert.equal(got.right, got.left + 1);
    assert.equal(got.rightVersion, got.leftVersion + 1);
    assert.equal(got.leftVersion, got.mergedId, "payload stays with its entry");
  }
  assert.equal(queue.pop(), undefined);
});
