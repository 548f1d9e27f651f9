/**
 * A GGUF file held as raw parts, so the fuzzer can build files the real writer refuses to (duplicate keys, unknown
 * type ids, nested arrays, offsets outside the file) and serialize them without any validation:
 *   magic "GGUF", u32 version, u64 tensor count, u64 key/value count,
 *   per key/value: u64 key length + key bytes, u32 value type, the value's payload bytes (as on disk),
 *   per tensor: u64 name length + name bytes, u32 n_dims, u64 dims[n_dims], u32 ggml type, u64 offset,
 *   zero padding to the alignment, then the data section.
 * `fromGguf` splits a valid file into these parts with the real parser's value reader (the payload of a value is
 * the bytes that reader consumed), so a seed file round-trips byte for byte.
 */
import { ByteReader } from "../../format/gguf/ByteReader.js";
import { ByteSink } from "../../format/gguf/ByteSink.js";
import { readGgufValue } from "../../format/gguf/readGgufValue.js";
import { GGUF_DEFAULT_ALIGNMENT, alignUp } from "../../format/gguf/parseGguf.js";

export interface RawKeyValue {
  key: Uint8Array;
  typeId: number;
  payload: Uint8Array;
}

export interface RawTensorInfo {
  name: Uint8Array;
  dims: bigint[];
  typeId: number;
  offset: bigint;
}

export interface RawGguf {
  version: number;
  /** Written instead of the real counts when set (a lie about how many records follow). */
  tensorCountOverride?: bigint;
  kvCountOverride?: bigint;
  kvs: RawKeyValue[];
  tensors: RawTensorInfo[];
  /** Padding written after the tensor infos (the data section starts at a multiple of it). */
  alignment: number;
  data: Uint8Array;
}

/** Splits a valid GGUF file into raw parts (throws the parser's FileFormatError on an invalid one). */
export function rawFromGguf(bytes: Uint8Array): RawGguf {
  const reader = new ByteReader(bytes, "seed");
  reader.offset = 4;
  const version = reader.u32("version");
  const tensorCount = reader.safeU64("tensor count");
  const kvCount = reader.safeU64("kv count");
  const kvs: RawKeyValue[] = [];
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  for (let i = 0; i < kvCount; i++) {
    const key = rawString(reader);
    const typeId = reader.u32("type");
    const start = reader.offset;
    const value = readGgufValue(reader, typeId, "value");
    if (new TextDecoder().decode(key) === "general.alignment" && value.type === "u32") alignment = value.value;
    kvs.push({ key, typeId, payload: bytes.slice(start, reader.offset) });
  }
  const tensors: RawTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = rawString(reader);
    const nDims = reader.u32("n_dims");
    const dims = Array.from({ length: nDims }, () => BigInt(reader.safeU64("dim")));
    const typeId = reader.u32("type");
    const offset = BigInt(reader.safeU64("offset"));
    tensors.push({ name, dims, typeId, offset });
  }
  const dataOffset = alignUp(reader.offset, alignment);
  return { version, kvs, tensors, alignment, data: bytes.slice(dataOffset) };
}

function rawString(reader: ByteReader): Uint8Array {
  const length = reader.count("length", 1);
  return reader.view8(length, "string").slice();
}

/** The file bytes of `raw`, exactly as described (no checks). */
export function serializeRawGguf(raw: RawGguf): Uint8Array {
  const sink = new ByteSink();
  sink.bytes(new TextEncoder().encode("GGUF"));
  sink.u32(raw.version >>> 0);
  sink.u64(raw.tensorCountOverride ?? BigInt(raw.tensors.length));
  sink.u64(raw.kvCountOverride ?? BigInt(raw.kvs.length));
  for (const kv of raw.kvs) {
    sink.u64(kv.key.byteLength);
    sink.bytes(kv.key);
    sink.u32(kv.typeId >>> 0);
    sink.bytes(kv.payload);
  }
  for (const t of raw.tensors) {
    sink.u64(t.name.byteLength);
    sink.bytes(t.name);
    sink.u32(t.dims.length);
    for (const d of t.dims) sink.u64(BigInt.asUintN(64, d));
    sink.u32(t.typeId >>> 0);
    sink.u64(BigInt.asUintN(64, t.offset));
  }
  const header = sink.toBytes();
  const alignment = raw.alignment > 0 && raw.alignment <= 1 << 16 ? raw.alignment : GGUF_DEFAULT_ALIGNMENT;
  const dataOffset = alignUp(header.byteLength, alignment);
  const file = new Uint8Array(dataOffset + raw.data.byteLength);
  file.set(header, 0);
  file.set(raw.data, dataOffset);
  return file;
}
