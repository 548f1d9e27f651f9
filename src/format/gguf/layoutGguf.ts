/**
 * The GGUF v3 header and data layout for a set of metadata entries and tensors: everything before the data section
 * as bytes, plus where each tensor's data goes. The writers (writeGguf.ts) stream the data after it.
 * Layout: see parseGguf.ts. Each tensor's data starts at a multiple of the alignment and is followed by zero
 * padding to the next multiple (as llama.cpp writes it), so the file size is a multiple of the alignment too.
 */
import type { TensorType } from "../tensor.js";
import { ConfigError } from "../../util/errors.js";
import { ByteSink } from "./ByteSink.js";
import { GGML_TYPES, tensorByteSize } from "./ggmlTypes.js";
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAX_DIMS, alignUp } from "./parseGguf.js";
import { GGUF_VALUE_TYPE_IDS, type GgufArray, type GgufValue } from "./ggufValue.js";

export interface GgufMetadataEntry {
  readonly key: string;
  /** Carries its explicit GGUF value type: { type: "u32", value: 32 }. */
  readonly value: GgufValue;
}

export interface GgufTensorSpec {
  readonly name: string;
  readonly type: TensorType;
  /** ggml order, fastest dimension first. */
  readonly shape: readonly number[];
}

export interface GgufLayout {
  /** magic .. tensor infos, zero-padded to the alignment: the bytes before the data section. */
  readonly header: Uint8Array;
  readonly alignment: number;
  /** Data bytes of each tensor, in input order. */
  readonly tensorBytes: readonly number[];
  /** Where each tensor's data starts, relative to the data section. */
  readonly tensorOffsets: readonly number[];
  /** Size of the whole file. */
  readonly fileBytes: number;
}

const GGUF_VERSION = 3;

/** Lays out a GGUF v3 file; the alignment is `general.alignment` when the metadata has it (a u32), else 32. */
export function layoutGguf(metadata: readonly GgufMetadataEntry[], tensors: readonly GgufTensorSpec[]): GgufLayout {
  const alignment = alignmentOf(metadata);
  const sink = new ByteSink();
  sink.bytes(new TextEncoder().encode("GGUF"));
  sink.u32(GGUF_VERSION);
  sink.u64(tensors.length);
  sink.u64(metadata.length);

  const keys = new Set<string>();
  for (const { key, value } of metadata) {
    if (key.length === 0 || keys.has(key)) throw new ConfigError("metadata key", "non-empty and unique", key);
    keys.add(key);
    sink.string(key);
    sink.u32(GGUF_VALUE_TYPE_IDS[value.type]);
    writeValue(sink, value, key);
  }

  const names = new Set<string>();
  const tensorBytes: number[] = [];
  const tensorOffsets: number[] = [];
  let dataBytes = 0;
  for (const { name, type, shape } of tensors) {
    if (names.has(name)) throw new ConfigError("tensor name", "unique", name);
    names.add(name);
    checkShape(name, type, shape);
    const bytes = tensorByteSize(type, shape);
    sink.string(name);
    sink.u32(shape.length);
    for (const dim of shape) sink.u64(dim);
    sink.u32(GGML_TYPES[type].ggmlId);
    sink.u64(dataBytes);
    tensorOffsets.push(dataBytes);
    tensorBytes.push(bytes);
    dataBytes = alignUp(dataBytes + bytes, alignment);
  }
  sink.padTo(alignment);
  const header = sink.toBytes();
  return { header, alignment, tensorBytes, tensorOffsets, fileBytes: header.byteLength + dataBytes };
}

function alignmentOf(metadata: readonly GgufMetadataEntry[]): number {
  const entry = metadata.find((e) => e.key === "general.alignment");
  if (entry === undefined) return GGUF_DEFAULT_ALIGNMENT;
  const { value } = entry;
  if (value.type !== "u32" || value.value < 1 || (value.value & (value.value - 1)) !== 0) {
    throw new ConfigError("general.alignment", "a u32 power of two", value);
  }
  return value.value;
}

function checkShape(name: string, type: TensorType, shape: readonly number[]): void {
  const traits = GGML_TYPES[type];
  const valid =
    shape.length >= 1 &&
    shape.length <= GGUF_MAX_DIMS &&
    shape.every((dim) => Number.isSafeInteger(dim) && dim >= 1) &&
    shape[0]! % traits.blockSize === 0;
  if (!valid) {
    throw new ConfigError(`shape of tensor ${name}`, `1..4 positive dims, the first a multiple of ${traits.blockSize}`, shape);
  }
}

/** Integer ranges of the fixed-size integer types. */
const INTEGER_RANGES = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
} as const;

const BIGINT_RANGES = {
  u64: [0n, 0xffffffffffffffffn],
  i64: [-0x8000000000000000n, 0x7fffffffffffffffn],
} as const;

function writeValue(sink: ByteSink, value: GgufValue, key: string): void {
  switch (value.type) {
    case "u8":
    case "i8":
    case "u16":
    case "i16":
    case "u32":
    case "i32": {
      const [lo, hi] = INTEGER_RANGES[value.type];
      if (!Number.isInteger(value.value) || value.value < lo || value.value > hi) {
        throw new ConfigError(`metadata ${key}`, `a ${value.type} integer in ${lo}..${hi}`, value.value);
      }
      sink[value.type](value.value);
      return;
    }
    case "u64":
    case "i64": {
      const [lo, hi] = BIGINT_RANGES[value.type];
      const valid = typeof value.value === "bigint" || Number.isSafeInteger(value.value);
      if (!valid || BigInt(value.value) < lo || BigInt(value.value) > hi) {
        throw new ConfigError(`metadata ${key}`, `a ${value.type} integer`, String(value.value));
      }
      sink[value.type](value.value);
      return;
    }
    case "f32":
    case "f64":
      sink[value.type](value.value);
      return;
    case "bool":
      sink.u8(value.value ? 1 : 0);
      return;
    case "string":
      sink.string(value.value);
      return;
    case "array":
      writeArray(sink, value, key);
      return;
  }
}

function writeArray(sink: ByteSink, array: GgufArray, key: string): void {
  sink.u32(GGUF_VALUE_TYPE_IDS[array.elementType]);
  sink.u64(array.values.length);
  switch (array.elementType) {
    case "bool":
      for (const v of array.values) sink.u8(v ? 1 : 0);
      return;
    case "string":
      for (const v of array.values) sink.string(v);
      return;
    case "array":
      for (const v of array.values) writeArray(sink, v, key);
      return;
    case "u64":
    case "i64":
      for (const v of array.values) sink[array.elementType](v);
      return;
    default: {
      const type = array.elementType;
      for (const v of array.values) sink[type](v);
      return;
    }
  }
}
