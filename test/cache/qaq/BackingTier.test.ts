import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createBackingTier, type BackingTier } from "../../../src/cache/qaq/BackingTier.js";
import { FileBackingTier } from "../../../src/platform/node/FileBackingTier.js";
import { f16ToF32, f32ToF16 } from "../../../src/quant/fp16.js";
import { Rng } from "../../../src/util/rng.js";

const SHAPE = { nLayers: 3, nKvHeads: 2, headDim: 4, maxTokens: 300 };
const KV_DIM = 8;

/** Writes random rows in blocks of varying size to every (layer, part); returns them as fp16 bits [layer][part][token·kvDim]. */
function fill(tier: BackingTier, tokens: number, seed: number): Uint16Array[][] {
  const rng = new Rng(seed);
  const all = Array.from({ length: SHAPE.nLayers }, () => [new Uint16Array(tokens * KV_DIM), new Uint16Array(tokens * KV_DIM)]);
  for (let first = 0; first < tokens; ) {
    const n = Math.min(tokens - first, 1 + Math.floor(rng.next() * 70));
    for (let l = 0; l < SHAPE.nLayers; l++) {
      for (const [p, part] of (["keys", "values"] as const).entries()) {
        const rows = Uint16Array.from({ length: n * KV_DIM }, () => f32ToF16(rng.normal() * 3));
        all[l]![p]!.set(rows, first * KV_DIM);
        tier.write(l, part, first, n, rows);
      }
    }
    first += n;
  }
  return all;
}

for (const kind of ["memory", "file"] as const) {
  test(`${kind} tier: reads return exactly the fp16 values written, at any element offset`, () => {
    const tier = createBackingTier(kind, SHAPE)!;
    const written = fill(tier, 250, 61);
    const out = new Float32Array(KV_DIM);
    for (let l = 0; l < SHAPE.nLayers; l++) {
      for (const [p, part] of (["keys", "values"] as const).entries()) {
        for (let t = 0; t < 250; t += 7) {
          for (const [offset, count] of [[0, 8], [4, 4], [3, 2]] as const) {
            tier.read(l, part, t, offset, count, out);
            for (let j = 0; j < count; j++) assert.equal(out[j], f16ToF32(written[l]![p]![t * KV_DIM + offset + j]!), `${part} layer ${l} token ${t}`);
          }
        }
      }
    }
    assert.equal(tier.reads, SHAPE.nLayers * 2 * 36 * 3);
    assert.equal(tier.bytesRead, SHAPE.nLayers * 2 * 36 * (16 + 8 + 4));
    tier.truncate(100);
    assert.throws(() => tier.read(0, "keys", 100, 0, 8, out), RangeError);
    tier.read(0, "keys", 99, 0, 8, out);
    tier.dispose();
  });
}

test("file tier: bytes count only the tokens still stored; nothing is on disk once it is open (POSIX)", () => {
  const tier = createBackingTier("file", SHAPE) as FileBackingTier;
  if (process.platform !== "win32") assert.ok(tier.unlinked && !existsSync(tier.directory));
  fill(tier, 40, 62);
  assert.equal(tier.byteLength, 40 * KV_DIM * 2 * 2 * SHAPE.nLayers);
  // regions are laid out per (layer, part) of maxTokens rows: the last one starts at (3·2 − 1)·300 rows
  assert.ok(tier.fileBytes >= ((2 * SHAPE.nLayers - 1) * 300 + 40) * KV_DIM * 2);
  tier.truncate(10);
  assert.equal(tier.byteLength, 10 * KV_DIM * 2 * 2 * SHAPE.nLayers);
  tier.dispose();
  assert.ok(!existsSync(tier.directory));
  assert.throws(() => tier.read(0, "keys", 0, 0, 8, new Float32Array(8)), /after dispose/);
});

test("backing=none has no tier", () => {
  assert.equal(createBackingTier("none", SHAPE), null);
});
