import { test } from "node:test";
import assert from "node:assert/strict";
import { quantizeValues } from "../../src/format/gguf/ggmlTypes.js";
import { parseGguf } from "../../src/format/gguf/parseGguf.js";
import { encodeGguf, type GgufMetadataEntry, type GgufTensorData } from "../../src/format/gguf/writeGguf.js";
import type { GgufArray } from "../../src/format/gguf/ggufValue.js";
import { FileFormatError, UnsupportedError } from "../../src/util/errors.js";

const FILE = "damaged.gguf";

/** A small valid file: two keys (one an array of strings), a q8_0 tensor, then an f32 tensor ending exactly aligned. */
function validFile(): { bytes: Uint8Array; end: number } {
  const metadata: GgufMetadataEntry[] = [
    { key: "general.architecture", value: { type: "string", value: "llama" } },
    { key: "tokenizer.ggml.tokens", value: { type: "array", elementType: "string", values: ["a", "bc"] } },
  ];
  const tensors: GgufTensorData[] = [
    { name: "first.weight", type: "q8_0", shape: [32, 2], data: quantizeValues("q8_0", new Float32Array(64).fill(0.5)) },
    { name: "last.weight", type: "f32", shape: [8], data: new Uint8Array(32).fill(1) },
  ];
  const bytes = encodeGguf(metadata, tensors);
  return { bytes, end: bytes.byteLength }; // last tensor is 32 bytes: no trailing padding
}

/** Offset of the type field of a tensor's info: after its name, n_dims and dims. */
function tensorTypeOffset(bytes: Uint8Array, name: string, nDims: number): number {
  const at = Buffer.from(bytes).indexOf(name);
  assert.ok(at > 0);
  return at + name.length + 4 + 8 * nDims;
}

function expectError(bytes: Uint8Array, errorClass: typeof FileFormatError | typeof UnsupportedError, pattern: RegExp): void {
  assert.throws(
    () => parseGguf(bytes, FILE),
    (error: unknown) => {
      assert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${String(error)}`);
      assert.ok(error.message.includes(FILE), `message names the file: ${error.message}`);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

function patched(bytes: Uint8Array, at: number, write: (view: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  write(new DataView(copy.buffer, at));
  return copy;
}

test("a file truncated anywhere (header, metadata, tensor infos, data) fails with a FileFormatError naming it", () => {
  const { bytes, end } = validFile();
  assert.doesNotThrow(() => parseGguf(bytes, FILE));
  for (let cut = 0; cut < end; cut++) {
    assert.throws(
      () => parseGguf(bytes.subarray(0, cut), FILE),
      (error: unknown) => error instanceof FileFormatError && error.message.startsWith(`${FILE}: `),
      `cut at ${cut}`,
    );
  }
  expectError(bytes.subarray(0, 30), FileFormatError, /truncated/);
  expectError(bytes.subarray(0, end - 1), FileFormatError, /last\.weight .* extends past the end of the file/);
});

test("wrong magic, GGUF v1, a big-endian file and an unknown version are told apart", () => {
  const { bytes } = validFile();
  expectError(new TextEncoder().encode("PK\u0003\u0004 not a model"), FileFormatError, /not a GGUF file.*"GGUF"/);
  expectError(patched(bytes, 4, (v) => v.setUint32(0, 1, true)), UnsupportedError, /GGUF version 1 .* not supported/);
  expectError(patched(bytes, 4, (v) => v.setUint32(0, 3, false)), UnsupportedError, /big-endian/);
  expectError(patched(bytes, 4, (v) => v.setUint32(0, 7, true)), FileFormatError, /unknown GGUF version 7/);
});

test("absurd counts and lengths fail at once instead of looping or allocating", () => {
  const { bytes } = validFile();
  const huge = 2n ** 40n;
  expectError(patched(bytes, 8, (v) => v.setBigUint64(0, huge, true)), FileFormatError, /tensor count 1099511627776 .* cannot fit/);
  expectError(patched(bytes, 16, (v) => v.setBigUint64(0, 2n ** 63n, true)), FileFormatError, /metadata key\/value count/);
  expectError(patched(bytes, 24, (v) => v.setBigUint64(0, huge, true)), FileFormatError, /length of metadata key #0/);
  // element count of tokenizer.ggml.tokens: after its key (u64 length + 21 bytes), value type and element type
  const keyAt = Buffer.from(bytes).indexOf("tokenizer.ggml.tokens");
  expectError(patched(bytes, keyAt + 21 + 4 + 4, (v) => v.setBigUint64(0, huge, true)), FileFormatError, /element count of metadata tokenizer\.ggml\.tokens/);
});

test("an unsupported tensor type is named with its ggml name and id", () => {
  const { bytes } = validFile();
  const at = tensorTypeOffset(bytes, "first.weight", 2);
  expectError(patched(bytes, at, (v) => v.setUint32(0, 10, true)), UnsupportedError, /tensor first\.weight has type Q2_K \(10\), which this engine does not support/);
  expectError(patched(bytes, at, (v) => v.setUint32(0, 11, true)), UnsupportedError, /tensor first\.weight has type Q3_K \(11\), which this engine does not support.*Q4_K, Q5_K, Q6_K/);
  expectError(patched(bytes, at, (v) => v.setUint32(0, 99, true)), UnsupportedError, /unknown type 99/);
});

test("tensor infos that do not fit the data are rejected: past the end, misaligned, partial blocks, bad dims", () => {
  const { bytes } = validFile();
  const typeAt = tensorTypeOffset(bytes, "last.weight", 1);
  expectError(patched(bytes, typeAt - 8, (v) => v.setBigUint64(0, 9n, true)), FileFormatError, /last\.weight .* extends past the end/);
  expectError(patched(bytes, typeAt + 4, (v) => v.setBigUint64(0, 4n, true)), FileFormatError, /offset 4 is not a multiple of the alignment 32/);
  const firstTypeAt = tensorTypeOffset(bytes, "first.weight", 2);
  expectError(patched(bytes, firstTypeAt - 16, (v) => v.setBigUint64(0, 16n, true)), FileFormatError, /not whole Q8_0 blocks/);
  expectError(patched(bytes, firstTypeAt - 16, (v) => v.setBigUint64(0, 0n, true)), FileFormatError, /empty dimension/);
  expectError(patched(bytes, firstTypeAt - 20, (v) => v.setUint32(0, 5, true)), FileFormatError, /5 dimensions/);
});

test("malformed metadata: unknown value type, bad bool, invalid UTF-8, duplicate key, bad alignment, deep nesting", () => {
  const { bytes } = validFile();
  const keyLength = "general.architecture".length;
  const typeAt = 24 + 8 + keyLength;
  expectError(patched(bytes, typeAt, (v) => v.setUint32(0, 13, true)), FileFormatError, /value type 13/);
  expectError(patched(bytes, 24 + 8, (v) => v.setUint8(0, 0xff)), FileFormatError, /metadata key #0 .* not valid UTF-8/);

  const one = (key: string): GgufMetadataEntry => ({ key, value: { type: "bool", value: true } });
  const twoKeys = encodeGguf([one("k.a"), one("k.b")], []);
  const secondKeyAt = Buffer.from(twoKeys).indexOf("k.b");
  expectError(patched(twoKeys, secondKeyAt + 2, (v) => v.setUint8(0, 0x61)), FileFormatError, /k\.a appears twice/);
  expectError(patched(twoKeys, secondKeyAt + 3 + 4, (v) => v.setUint8(0, 2)), FileFormatError, /bool stored as 2/);

  const aligned = (value: number) => encodeGguf([{ key: "general.alignment", value: { type: "u32", value } }], []);
  expectError(patched(aligned(32), 24 + 8 + 17 + 4, (v) => v.setUint32(0, 48, true)), FileFormatError, /alignment 48 is not a power of two/);
  const wrongType = patched(aligned(32), 24 + 8 + 17, (v) => v.setUint32(0, 5, true)); // u32 -> i32, same size
  expectError(wrongType, FileFormatError, /general\.alignment has type i32/);

  let nested: GgufArray = { type: "array", elementType: "u8", values: new Uint8Array([1]) };
  for (let depth = 0; depth < 9; depth++) nested = { type: "array", elementType: "array", values: [nested] };
  expectError(encodeGguf([{ key: "deep", value: nested }], []), FileFormatError, /nests arrays deeper than 8/);
});
