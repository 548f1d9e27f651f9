/**
 * GGUF metadata values: the 13 on-disk value types and the typed union the parser returns and the writer takes.
 * The same union serves both directions, so a parsed file's metadata can be written back unchanged.
 *
 * Representation:
 *   u8..i32, f32, f64        -> number
 *   u64, i64                 -> number when it is a safe integer, bigint otherwise (the writer accepts either)
 *   bool, string             -> boolean, string
 *   array of u8..f64         -> the matching typed array (Uint8Array ... Float64Array, BigUint64Array, BigInt64Array)
 *   array of bool / string   -> boolean[] / string[]
 *   array of arrays          -> GgufArray[] (each inner array carries its own element type, as on disk)
 */

/** On-disk ids of the value types (gguf_metadata_value_type). */
export const GGUF_VALUE_TYPE_IDS = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;

export type GgufValueType = keyof typeof GGUF_VALUE_TYPE_IDS;

/** Value types held in a JavaScript number exactly. */
export type GgufNumberType = "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64";

export type GgufValue =
  | { readonly type: GgufNumberType; readonly value: number }
  | { readonly type: "u64" | "i64"; readonly value: number | bigint }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "string"; readonly value: string }
  | GgufArray;

export type GgufArray =
  | { readonly type: "array"; readonly elementType: "u8"; readonly values: Uint8Array }
  | { readonly type: "array"; readonly elementType: "i8"; readonly values: Int8Array }
  | { readonly type: "array"; readonly elementType: "u16"; readonly values: Uint16Array }
  | { readonly type: "array"; readonly elementType: "i16"; readonly values: Int16Array }
  | { readonly type: "array"; readonly elementType: "u32"; readonly values: Uint32Array }
  | { readonly type: "array"; readonly elementType: "i32"; readonly values: Int32Array }
  | { readonly type: "array"; readonly elementType: "f32"; readonly values: Float32Array }
  | { readonly type: "array"; readonly elementType: "f64"; readonly values: Float64Array }
  | { readonly type: "array"; readonly elementType: "u64"; readonly values: BigUint64Array }
  | { readonly type: "array"; readonly elementType: "i64"; readonly values: BigInt64Array }
  | { readonly type: "array"; readonly elementType: "bool"; readonly values: readonly boolean[] }
  | { readonly type: "array"; readonly elementType: "string"; readonly values: readonly string[] }
  | { readonly type: "array"; readonly elementType: "array"; readonly values: readonly GgufArray[] };

/** Element types stored as fixed-size little-endian numbers, with their byte size. */
export const GGUF_FIXED_SIZES = {
  u8: 1,
  i8: 1,
  u16: 2,
  i16: 2,
  u32: 4,
  i32: 4,
  f32: 4,
  bool: 1,
  u64: 8,
  i64: 8,
  f64: 8,
} as const;

/** The fewest bytes one element of each type can take: a string is at least its u64 length, an array its header. */
export function minimumValueBytes(type: GgufValueType): number {
  if (type === "string") return 8;
  if (type === "array") return 4 + 8;
  return GGUF_FIXED_SIZES[type];
}

/** Value type name for an on-disk id, undefined for ids outside the spec. */
export function ggufValueTypeFromId(id: number): GgufValueType | undefined {
  for (const [name, typeId] of Object.entries(GGUF_VALUE_TYPE_IDS)) {
    if (typeId === id) return name as GgufValueType;
  }
  return undefined;
}

/** Nested arrays deeper than this are rejected: real files use one level, and a limit keeps recursion bounded. */
export const GGUF_MAX_ARRAY_DEPTH = 8;
