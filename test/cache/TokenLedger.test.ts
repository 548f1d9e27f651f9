import { test } from "node:test";
import assert from "node:assert/strict";
import { WasmHeap } from "../../src/kernels/WasmHeap.js";
import { TokenLedger } from "../../src/cache/TokenLedger.js";
import { trackHeap } from "./trackHeap.js";

test("entries survive growth, new entries are empty, truncate clears, nbytes = the four arrays", () => {
  const heap = WasmHeap.create(4);
  const tracker = trackHeap(heap);
  const groups = 3;
  const ledger = new TokenLedger(heap, groups, 1000, "test ledger");
  assert.equal(ledger.addTokens(50), 0);
  let v = ledger.views();
  for (let m = 0; m < 150; m++) {
    v.slot[m] = 100000 + m;
    v.bits[m] = m % 9;
    v.scale[m] = 2 * m;
    v.zero[m] = 3 * m;
  }
  // 64 tokens of capacity first: the next 50 force a reallocation to 128
  assert.equal(ledger.addTokens(50), 50);
  v = ledger.views();
  for (let m = 0; m < 150; m++) {
    assert.deepEqual([v.slot[m], v.bits[m], v.scale[m], v.zero[m]], [100000 + m, m % 9, 2 * m, 3 * m]);
  }
  for (let m = 150; m < 300; m++) assert.deepEqual([v.slot[m], v.bits[m], v.scale[m], v.zero[m]], [0, 0, 0, 0]);
  assert.equal(ledger.nbytes(), 128 * groups * (4 + 1 + 2 + 2));
  assert.equal(ledger.nbytes(), tracker.liveBytes());

  ledger.truncate(10);
  assert.equal(ledger.tokens, 10);
  ledger.addTokens(5);
  v = ledger.views();
  assert.equal(v.slot[29], 100029);
  for (let m = 30; m < 45; m++) assert.deepEqual([v.slot[m], v.bits[m], v.scale[m], v.zero[m]], [0, 0, 0, 0]);

  assert.throws(() => ledger.addTokens(1000), RangeError);
  ledger.dispose();
  assert.equal(tracker.liveBytes(), 0);
});
