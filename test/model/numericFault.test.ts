import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Engine } from "../../src/engine/Engine.js";
import { parseLlama2cCheckpoint } from "../../src/format/llama2c.js";
import { TENSOR_NAMES } from "../../src/format/tensor.js";
import { NumericError } from "../../src/util/errors.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER } from "../support/paths.js";

/**
 * A deliberately corrupted stories260K: one weight set to NaN, or one huge enough to overflow, stops the forward
 * pass with a NumericError naming the layer, the stage and the position, instead of sampling from garbage.
 */
const original = new Uint8Array(readFileSync(BUNDLED_MODEL));

/**
 * stories260K with an untied classifier: the same weights, vocab_size stored negative and a copy of the embedding
 * appended as the classifier (llama2.c's layout), so a token's embedding row can be corrupted alone.
 */
function untied(): Uint8Array {
  const embedding = parseLlama2cCheckpoint(original, "stories260K.bin").tensors.find((t) => t.name === TENSOR_NAMES.tokenEmbedding)!;
  const bytes = new Uint8Array(original.length + embedding.data.length);
  bytes.set(original);
  bytes.set(embedding.data, original.length);
  const header = new DataView(bytes.buffer);
  header.setInt32(20, -header.getInt32(20, true), true);
  return bytes;
}

/** The checkpoint's bytes with element `index` of tensor `name` (f32) set to `value`. */
function corrupted(name: string, index: number, value: number, source: Uint8Array = original): Uint8Array {
  const bytes = source.slice();
  const tensor = parseLlama2cCheckpoint(bytes, "stories260K.bin").tensors.find((t) => t.name === name)!;
  new DataView(bytes.buffer, tensor.data.byteOffset + 4 * index, 4).setFloat32(0, value, true);
  return bytes;
}

/**
 * Feeds `tokens` one at a time (as decoding does), or all in one forward call (as a prompt is prefilled), and returns
 * what the forward pass threw, if anything.
 */
async function forwardError(bytes: Uint8Array, tokens: number[], feeding: "one by one" | "as one block" = "one by one"): Promise<unknown> {
  const engine = await Engine.fromBytes(bytes, "corrupt.bin", BUNDLED_TOKENIZER, 1);
  const cache = engine.createCache({ kind: "fp32" });
  try {
    if (feeding === "as one block") engine.model.forward(Int32Array.from(tokens), 0, cache, "all");
    else tokens.forEach((token, pos) => engine.model.forward(Int32Array.of(token), pos, cache, "last"));
    return undefined;
  } catch (error) {
    return error;
  } finally {
    cache.dispose();
    engine.dispose();
  }
}

test("a NaN in layer 2's value projection is reported at layer 2's values, at the first position", { timeout: 60_000 }, async () => {
  // wv of layer 2: every position's value vector reads this row, so the values are NaN from position 0 on
  const error = await forwardError(corrupted(TENSOR_NAMES.wv(2), 5, Number.NaN), [1, 403, 407]);
  assert.ok(error instanceof NumericError, String(error));
  assert.equal(error.message, "non-finite values (NaN or Infinity) in layer 2 values at position 0");
});

test("an overflow in layer 3's feed-forward is reported at layer 3's residual stream", { timeout: 60_000 }, async () => {
  // 1e30 as one weight of layer 3's FFN norm: gate and up reach ~1e29 each (finite), their product ~1e58 overflows
  // f32 to Infinity, and the FFN output added to the residual stream is non-finite; attention before it is clean
  const error = await forwardError(corrupted(TENSOR_NAMES.ffnNorm(3), 0, 1e30), [1, 403, 407, 261]);
  assert.ok(error instanceof NumericError, String(error));
  assert.match(error.message, /^non-finite values \(NaN or Infinity\) in layer 3 residual stream at position 0$/);
});

test("a NaN in one token's embedding row names that token's position", { timeout: 60_000 }, async () => {
  // token 407 is at position 2: its embedding row [407 * dim ..] holds the NaN; positions 0 and 1 run clean first
  // (untied classifier: with the tied one, row 407 is also a classifier row and position 0's logits fail first)
  const dim = 64;
  const error = await forwardError(corrupted(TENSOR_NAMES.tokenEmbedding, 407 * dim + 3, Number.NaN, untied()), [1, 403, 407, 261]);
  assert.ok(error instanceof NumericError, String(error));
  assert.equal(error.message, "non-finite values (NaN or Infinity) in layer 0 keys at position 2");
});

test("a NaN in one token's embedding row names that token's position when the prompt is one block", { timeout: 60_000 }, async () => {
  // the block's attention mixes every row of V with the causal weights, 0 for the positions after a query's own:
  // 0·NaN is NaN, so without the check on keys and values the NaN of position 2 would reach positions 0 and 1
  const dim = 64;
  const error = await forwardError(corrupted(TENSOR_NAMES.tokenEmbedding, 407 * dim + 3, Number.NaN, untied()), [1, 403, 407, 261], "as one block");
  assert.ok(error instanceof NumericError, String(error));
  assert.equal(error.message, "non-finite values (NaN or Infinity) in layer 0 keys at position 2");
});

test("a NaN in a tied classifier row is reported in the output logits, with the position", { timeout: 60_000 }, async () => {
  const error = await forwardError(corrupted(TENSOR_NAMES.tokenEmbedding, 407 * 64 + 3, Number.NaN), [1, 403]);
  assert.ok(error instanceof NumericError, String(error));
  assert.equal(error.message, "non-finite values (NaN or Infinity) in output logits at position 0");
});

test("the unmodified model runs clean (the check does not fire on healthy activations)", { timeout: 60_000 }, async () => {
  assert.equal(await forwardError(original, [1, 403, 407, 261, 378]), undefined);
});
