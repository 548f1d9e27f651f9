/**
 * Structure-aware mutations of llama2.c files. A checkpoint (.bin) is 7 int32 header fields and float32 weights
 * whose count the header implies; a tokenizer (tok*.bin) is an int32 max_token_length and records of
 * (f32 score, i32 length, bytes). Layouts: src/format/llama2c.ts and llama2cTokenizerFile.ts.
 */
import type { Rng } from "../../util/rng.js";
import { INTERESTING_U32, pick, randomInt, type Mutated } from "./byteMutations.js";

const HEADER_FIELDS = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"] as const;
const SMALL_INTERESTING = [-1, 0, 1, 2, 3, 7, 8, 64, 65, 512, 513, 1 << 16, 1 << 23, 1 << 24, (1 << 24) + 1, -(1 << 30)] as const;

/** A header field set to an interesting value; the file keeps its size, or is resized to what the header implies. */
export function mutateCheckpoint(rng: Rng, bytes: Uint8Array): Mutated {
  const choice = rng.next();
  if (choice < 0.35) {
    const out = bytes.slice();
    const field = randomInt(rng, 0, HEADER_FIELDS.length - 1);
    const value = rng.next() < 0.5 ? pick(rng, SMALL_INTERESTING) : pick(rng, INTERESTING_U32) | 0;
    new DataView(out.buffer).setInt32(field * 4, value, true);
    return { bytes: rng.next() < 0.5 ? out : resizedToHeader(out), label: `header ${HEADER_FIELDS[field]} = ${value}` };
  }
  if (choice < 0.45) {
    const out = bytes.slice();
    const view = new DataView(out.buffer);
    view.setInt32(20, -view.getInt32(20, true), true); // tied <-> untied classifier
    return { bytes: rng.next() < 0.5 ? out : resizedToHeader(out), label: "vocab_size sign flipped" };
  }
  return nonFiniteWeights(rng, bytes, 28);
}

/** The file cut or zero-extended to the size its (possibly mutated) header implies, when that is small. */
function resizedToHeader(bytes: Uint8Array): Uint8Array {
  const v = new DataView(bytes.buffer);
  const [dim, hidden, layers, heads, kvHeads, vocab, seq] = Array.from({ length: 7 }, (_, i) => v.getInt32(i * 4, true));
  if (heads! <= 0 || kvHeads! <= 0) return bytes;
  const head = dim! / heads!;
  const kvDim = kvHeads! * head;
  const floats =
    Math.abs(vocab!) * dim! * (vocab! < 0 ? 2 : 1) +
    layers! * (2 * dim! + 2 * dim! * dim! + 2 * dim! * kvDim + 3 * dim! * hidden!) +
    dim! +
    seq! * head;
  const size = 28 + floats * 4;
  if (!Number.isSafeInteger(size) || size < 28 || size > 8 << 20) return bytes;
  const out = new Uint8Array(size);
  out.set(bytes.subarray(0, Math.min(size, bytes.length)));
  return out;
}

/** A few float32 values after `start` set to NaN, infinity or a value that overflows once multiplied. */
export function nonFiniteWeights(rng: Rng, bytes: Uint8Array, start: number): Mutated {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const count = randomInt(rng, 1, 4);
  const floats = Math.floor((out.length - start) / 4);
  for (let i = 0; i < count && floats > 0; i++) {
    view.setFloat32(start + 4 * Math.floor(rng.next() * floats), pick(rng, [Number.NaN, Infinity, -Infinity, 3e38, -3e38]), true);
  }
  return { bytes: out, label: `${count} non-finite or huge weights` };
}

/** Offsets of each token record of a tokenizer file (stops at the first record that does not fit). */
function recordOffsets(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets: number[] = [];
  let at = 4;
  while (at + 8 <= bytes.length) {
    offsets.push(at);
    const length = view.getInt32(at + 4, true);
    if (length < 0) break;
    at += 8 + length;
  }
  return offsets;
}

export function mutateTokenizerFile(rng: Rng, bytes: Uint8Array): Mutated {
  const out = bytes.slice();
  const view = new DataView(out.buffer);
  const records = recordOffsets(out);
  const record = records.length > 0 ? pick(rng, records) : 4;
  const choice = rng.next();
  if (choice < 0.2) {
    const value = pick(rng, SMALL_INTERESTING);
    view.setInt32(0, value, true);
    return { bytes: out, label: `max_token_length ${value}` };
  }
  if (choice < 0.5 && record + 8 <= out.length) {
    const value = rng.next() < 0.5 ? pick(rng, SMALL_INTERESTING) : pick(rng, INTERESTING_U32) | 0;
    view.setInt32(record + 4, value, true);
    return { bytes: out, label: `record at ${record}: length ${value}` };
  }
  if (choice < 0.7 && record + 8 <= out.length) {
    const length = view.getInt32(record + 4, true);
    if (length > 0) out[record + 8 + randomInt(rng, 0, length - 1)] = pick(rng, [0x80, 0xc0, 0xff, 0xed, 0xf8]);
    return { bytes: out, label: `record at ${record}: bad UTF-8` };
  }
  if (choice < 0.8 && record + 8 <= out.length) {
    view.setFloat32(record, pick(rng, [Number.NaN, Infinity, -Infinity, 3e38]), true);
    return { bytes: out, label: `record at ${record}: non-finite score` };
  }
  return { bytes: out.slice(0, randomInt(rng, 0, out.length)), label: "truncate" };
}
