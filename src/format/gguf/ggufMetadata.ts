/**
 * Typed reads of GGUF metadata entries: each returns undefined for an absent key and throws a FileFormatError
 * naming the key and both types when the entry has the wrong type, so loaders never guess at a value.
 */
import { FileFormatError } from "../../util/errors.js";
import type { GgufValue } from "./ggufValue.js";

export type GgufMetadata = ReadonlyMap<string, GgufValue>;

export function metadataString(metadata: GgufMetadata, key: string, file: string): string | undefined {
  const entry = metadata.get(key);
  if (entry === undefined) return undefined;
  if (entry.type !== "string") wrongType(entry, key, "a string", file);
  return entry.value;
}

/** Any integer type, as a safe integer. */
export function metadataInteger(metadata: GgufMetadata, key: string, file: string): number | undefined {
  const entry = metadata.get(key);
  if (entry === undefined) return undefined;
  switch (entry.type) {
    case "u8":
    case "i8":
    case "u16":
    case "i16":
    case "u32":
    case "i32":
      return entry.value;
    case "u64":
    case "i64":
      if (typeof entry.value === "number") return entry.value;
      throw new FileFormatError(file, `metadata ${key} = ${entry.value} is too large`);
    default:
      return wrongType(entry, key, "an integer", file);
  }
}

/** A float (f32, f64) or an integer type, as a number. */
export function metadataNumber(metadata: GgufMetadata, key: string, file: string): number | undefined {
  const entry = metadata.get(key);
  if (entry === undefined) return undefined;
  if (entry.type === "f32" || entry.type === "f64") return entry.value;
  return metadataInteger(metadata, key, file);
}

export function metadataStringArray(metadata: GgufMetadata, key: string, file: string): readonly string[] | undefined {
  const entry = metadata.get(key);
  if (entry === undefined) return undefined;
  if (entry.type !== "array" || entry.elementType !== "string") wrongType(entry, key, "an array of strings", file);
  return entry.values;
}

/** An array of any number type (not 64-bit integers, not nested), converted to float32. */
export function metadataFloat32Array(metadata: GgufMetadata, key: string, file: string): Float32Array | undefined {
  const values = numberArray(metadata, key, file);
  return values === undefined || values instanceof Float32Array ? values : Float32Array.from(values);
}

/** An array of any integer type of 32 bits or fewer whose values fit an int32, as Int32Array. */
export function metadataInt32Array(metadata: GgufMetadata, key: string, file: string): Int32Array | undefined {
  const values = numberArray(metadata, key, file);
  if (values === undefined || values instanceof Int32Array) return values;
  if (values instanceof Float32Array || values instanceof Float64Array) {
    return wrongType(metadata.get(key)!, key, "an array of integers", file);
  }
  if (values instanceof Uint32Array && values.some((v) => v > 0x7fffffff)) {
    throw new FileFormatError(file, `metadata ${key} holds values beyond the int32 range`);
  }
  return Int32Array.from(values);
}

function numberArray(
  metadata: GgufMetadata,
  key: string,
  file: string,
): Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array | undefined {
  const entry = metadata.get(key);
  if (entry === undefined) return undefined;
  if (entry.type !== "array") return wrongType(entry, key, "an array of numbers", file);
  switch (entry.elementType) {
    case "u8":
    case "i8":
    case "u16":
    case "i16":
    case "u32":
    case "i32":
    case "f32":
    case "f64":
      return entry.values;
    default:
      return wrongType(entry, key, "an array of numbers", file);
  }
}

/** "u32", "array of string" ... for messages. */
export function describeGgufType(value: GgufValue): string {
  return value.type === "array" ? `array of ${value.elementType}` : value.type;
}

function wrongType(entry: GgufValue, key: string, expected: string, file: string): never {
  throw new FileFormatError(file, `metadata ${key} has type ${describeGgufType(entry)}, expected ${expected}`);
}
