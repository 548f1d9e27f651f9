/**
 * Reading one GGUF metadata value (scalar, string or array, arrays possibly nested) from a ByteReader.
 * On disk a value is its payload alone (the type id comes before it, in the key/value record or the array header):
 *   fixed-size types: the little-endian number; bool: one byte 0/1
 *   string: u64 byte length + UTF-8 bytes
 *   array:  u32 element type id, u64 count, then `count` payloads of that type
 */
import type { ByteReader } from "./ByteReader.js";
import {
  GGUF_MAX_ARRAY_DEPTH,
  ggufValueTypeFromId,
  minimumValueBytes,
  type GgufArray,
  type GgufValue,
  type GgufValueType,
} from "./ggufValue.js";

/** Reads the payload of a value whose type id was just read; `what` names it (the metadata key) in errors. */
export function readGgufValue(reader: ByteReader, typeId: number, what: string): GgufValue {
  const type = valueType(reader, typeId, what);
  if (type === "array") return readArray(reader, what, 0);
  switch (type) {
    case "u8":
    case "i8":
    case "u16":
    case "i16":
    case "u32":
    case "i32":
    case "f32":
    case "f64":
      return { type, value: readNumber(reader, type, what) };
    case "u64":
      return { type, value: reader.u64(what) };
    case "i64":
      return { type, value: reader.i64(what) };
    case "bool":
      return { type, value: readBool(reader, what) };
    case "string":
      return { type, value: reader.string(what) };
  }
}

function valueType(reader: ByteReader, typeId: number, what: string): GgufValueType {
  const type = ggufValueTypeFromId(typeId);
  if (type === undefined) reader.fail(`${what} has value type ${typeId}, which is not a GGUF type (0..12)`);
  return type;
}

function readNumber(reader: ByteReader, type: "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64", what: string): number {
  switch (type) {
    case "u8":
      return reader.u8(what);
    case "i8":
      return reader.i8(what);
    case "u16":
      return reader.u16(what);
    case "i16":
      return reader.i16(what);
    case "u32":
      return reader.u32(what);
    case "i32":
      return reader.i32(what);
    case "f32":
      return reader.f32(what);
    case "f64":
      return reader.f64(what);
  }
}

function readBool(reader: ByteReader, what: string): boolean {
  const at = reader.offset;
  const byte = reader.u8(what);
  if (byte > 1) reader.fail(`${what} at byte ${at} is a bool stored as ${byte}; GGUF bools are 0 or 1`);
  return byte === 1;
}

function readArray(reader: ByteReader, what: string, depth: number): GgufArray {
  if (depth >= GGUF_MAX_ARRAY_DEPTH) reader.fail(`${what} nests arrays deeper than ${GGUF_MAX_ARRAY_DEPTH} levels`);
  const elementType = valueType(reader, reader.u32(`element type of ${what}`), what);
  const count = reader.count(`element count of ${what}`, minimumValueBytes(elementType));
  switch (elementType) {
    case "u8":
      return { type: "array", elementType, values: reader.view8(count, what).slice() };
    case "i8":
      return { type: "array", elementType, values: new Int8Array(reader.view8(count, what).slice().buffer) };
    case "u16":
      return { type: "array", elementType, values: Uint16Array.from({ length: count }, () => reader.u16(what)) };
    case "i16":
      return { type: "array", elementType, values: Int16Array.from({ length: count }, () => reader.i16(what)) };
    case "u32":
      return { type: "array", elementType, values: Uint32Array.from({ length: count }, () => reader.u32(what)) };
    case "i32":
      return { type: "array", elementType, values: Int32Array.from({ length: count }, () => reader.i32(what)) };
    case "f32":
      return { type: "array", elementType, values: Float32Array.from({ length: count }, () => reader.f32(what)) };
    case "f64":
      return { type: "array", elementType, values: Float64Array.from({ length: count }, () => reader.f64(what)) };
    case "u64":
      return { type: "array", elementType, values: BigUint64Array.from({ length: count }, () => BigInt(reader.u64(what))) };
    case "i64":
      return { type: "array", elementType, values: BigInt64Array.from({ length: count }, () => BigInt(reader.i64(what))) };
    case "bool":
      return { type: "array", elementType, values: Array.from({ length: count }, () => readBool(reader, what)) };
    case "string":
      return { type: "array", elementType, values: Array.from({ length: count }, () => reader.string(what)) };
    case "array":
      return {
        type: "array",
        elementType,
        values: Array.from({ length: count }, () => readArray(reader, `element of ${what}`, depth + 1)),
      };
  }
}
