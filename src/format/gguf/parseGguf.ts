/**
 * GGUF parser (versions 2 and 3). File layout, all little-endian:
 *
 *   u32  magic        "GGUF" (bytes 47 47 55 46)
 *   u32  version      2 or 3 (version 1 used 32-bit counts and is rejected; a byte-swapped version is a big-endian file)
 *   u64  tensor_count
 *   u64  metadata_kv_count
 *   metadata_kv_count x { gguf string key; u32 value type (0..12); value }    (see readGgufValue.ts, ggufValue.ts)
 *   tensor_count x {
 *     gguf string name; u32 n_dims (1..4); u64 dims[n_dims] (ggml order, fastest first);
 *     u32 ggml type; u64 offset (relative to the data section, a multiple of the alignment)
 *   }
 *   zero padding up to a multiple of the alignment (`general.alignment`, u32, default 32)
 *   tensor data section
 *
 * A gguf string is u64 byte length + UTF-8 bytes. Tensors are returned as views into `bytes` (no copy); every count,
 * size and offset is checked against the file's length before use, so a damaged file fails with a FileFormatError
 * naming the file and the problem, never with a RangeError, a huge allocation or a long loop.
 */
import type { TensorType, TensorView } from "../tensor.js";
import { FileFormatError, UnsupportedError } from "../../util/errors.js";
import { ByteReader } from "./ByteReader.js";
import { GGML_TYPES, describeGgmlTypeId, tensorByteSize, tensorTypeFromGgmlId } from "./ggmlTypes.js";
import type { GgufValue } from "./ggufValue.js";
import { readGgufValue } from "./readGgufValue.js";

export const GGUF_MAGIC = "GGUF";
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_DIMS. */
export const GGUF_MAX_DIMS = 4;

export interface GgufFile {
  readonly version: 2 | 3;
  readonly alignment: number;
  readonly metadata: Map<string, GgufValue>;
  /** In file order; `data` are views into the parsed bytes. */
  readonly tensors: readonly TensorView[];
  /** Byte offset of the tensor data section. */
  readonly dataOffset: number;
}

/** Smallest possible metadata record: empty key (8) + type (4) + one-byte value. */
const MIN_KV_BYTES = 8 + 4 + 1;
/** Smallest possible tensor info: empty name (8) + n_dims (4) + one dim (8) + type (4) + offset (8). */
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8;

/** True when `bytes` start with the GGUF magic. */
export function hasGgufMagic(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && bytes[0] === 0x47 && bytes[1] === 0x47 && bytes[2] === 0x55 && bytes[3] === 0x46;
}

/** A tensor as its info record describes it, whatever its type (`qaq inspect` shows types this engine cannot run). */
export interface GgufTensorInfo {
  readonly name: string;
  readonly shape: readonly number[];
  /** ggml type id as stored */
  readonly typeId: number;
  /** relative to the data section */
  readonly offset: number;
}

/** Everything before the tensor data: what `qaq inspect` shows. */
export interface GgufHeader {
  readonly version: 2 | 3;
  readonly alignment: number;
  readonly metadata: Map<string, GgufValue>;
  readonly tensorInfos: readonly GgufTensorInfo[];
  readonly dataOffset: number;
}

/** Parses a whole GGUF file; `file` names it in errors. */
export function parseGguf(bytes: Uint8Array, file: string): GgufFile {
  const { version, alignment, metadata, tensorInfos, dataOffset } = parseGgufHeader(bytes, file);
  const tensors = tensorInfos.map((info) => tensorView({ ...info, type: supportedType(info, file) }, bytes, dataOffset, alignment, file));
  return { version, alignment, metadata, tensors, dataOffset };
}

/**
 * Parses the header (magic .. tensor infos) from `bytes`, which may be only the start of the file: the data section
 * is not touched, and tensor types are not checked against what this engine supports.
 */
export function parseGgufHeader(bytes: Uint8Array, file: string): GgufHeader {
  const reader = new ByteReader(bytes, file);
  if (!hasGgufMagic(bytes)) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new FileFormatError(file, `not a GGUF file: it starts with bytes [${head}], expected the magic "GGUF"`);
  }
  reader.offset = 4;
  const version = readVersion(reader);
  const tensorCount = reader.count("tensor count", MIN_TENSOR_INFO_BYTES);
  const kvCount = reader.count("metadata key/value count", MIN_KV_BYTES);

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = reader.string(`metadata key #${i}`);
    if (metadata.has(key)) reader.fail(`metadata key ${key} appears twice`);
    metadata.set(key, readGgufValue(reader, reader.u32(`value type of ${key}`), `metadata ${key}`));
  }
  const alignment = readAlignment(metadata, reader);

  const infos: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const info = readTensorInfo(reader, i);
    if (names.has(info.name)) reader.fail(`tensor ${info.name} appears twice`);
    names.add(info.name);
    infos.push(info);
  }

  const dataOffset = alignUp(reader.offset, alignment);
  return { version, alignment, metadata, tensorInfos: infos, dataOffset };
}

interface TensorInfo extends GgufTensorInfo {
  readonly type: TensorType;
}

function readVersion(reader: ByteReader): 2 | 3 {
  const version = reader.u32("GGUF version");
  if (version === 2 || version === 3) return version;
  if (version === 1) {
    throw new UnsupportedError(`${reader.file}: GGUF version 1 (32-bit counts, 2023) is not supported; convert the model to GGUF v3`);
  }
  // a big-endian file stores 2 or 3 in the top byte
  const swapped = version >>> 24;
  if ((swapped === 2 || swapped === 3) && (version & 0x00ffffff) === 0) {
    throw new UnsupportedError(`${reader.file}: a big-endian GGUF file (version ${swapped} byte-swapped); only little-endian is supported`);
  }
  return reader.fail(`unknown GGUF version ${version} (supported: 2 and 3)`);
}

function readAlignment(metadata: Map<string, GgufValue>, reader: ByteReader): number {
  const entry = metadata.get("general.alignment");
  if (entry === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (entry.type !== "u32") reader.fail(`general.alignment has type ${entry.type}; GGUF requires u32`);
  const alignment = entry.value;
  if (alignment === 0 || (alignment & (alignment - 1)) !== 0) {
    reader.fail(`general.alignment ${alignment} is not a power of two`);
  }
  return alignment;
}

function readTensorInfo(reader: ByteReader, index: number): GgufTensorInfo {
  const name = reader.string(`name of tensor #${index}`);
  const nDims = reader.u32(`dimension count of tensor ${name}`);
  if (nDims < 1 || nDims > GGUF_MAX_DIMS) reader.fail(`tensor ${name} has ${nDims} dimensions; GGUF allows 1..${GGUF_MAX_DIMS}`);
  const shape: number[] = [];
  let elements = 1;
  for (let d = 0; d < nDims; d++) {
    const dim = reader.safeU64(`dimension ${d} of tensor ${name}`);
    if (dim < 1) reader.fail(`tensor ${name} has an empty dimension (shape [${[...shape, dim].join(", ")}])`);
    elements *= dim;
    if (elements > Number.MAX_SAFE_INTEGER) reader.fail(`tensor ${name} has an impossibly large shape`);
    shape.push(dim);
  }
  const typeId = reader.u32(`type of tensor ${name}`);
  const offset = reader.safeU64(`data offset of tensor ${name}`);
  return { name, shape, typeId, offset };
}

function supportedType(info: GgufTensorInfo, file: string): TensorType {
  const type = tensorTypeFromGgmlId(info.typeId);
  if (type === undefined) {
    throw new UnsupportedError(
      `${file}: tensor ${info.name} has type ${describeGgmlTypeId(info.typeId)}, which this engine does not support ` +
        `(supported: ${Object.values(GGML_TYPES).map((t) => t.name).join(", ")})`,
    );
  }
  return type;
}

function tensorView(info: TensorInfo, bytes: Uint8Array, dataOffset: number, alignment: number, file: string): TensorView {
  const { name, shape, type, offset } = info;
  const traits = GGML_TYPES[type];
  if (shape[0]! % traits.blockSize !== 0) {
    throw new FileFormatError(file, `tensor ${name}: rows of ${shape[0]} values are not whole ${traits.name} blocks of ${traits.blockSize}`);
  }
  if (offset % alignment !== 0) {
    throw new FileFormatError(file, `tensor ${name}: data offset ${offset} is not a multiple of the alignment ${alignment}`);
  }
  const byteLength = tensorByteSize(type, shape);
  const start = dataOffset + offset;
  if (start + byteLength > bytes.byteLength) {
    throw new FileFormatError(
      file,
      `tensor ${name} (${traits.name} [${shape.join(", ")}], ${byteLength} bytes at byte ${start}) extends past the end ` +
        `of the file (${bytes.byteLength} bytes): truncated?`,
    );
  }
  return { name, type, shape, data: bytes.subarray(start, start + byteLength) };
}

export function alignUp(offset: number, alignment: number): number {
  return Math.ceil(offset / alignment) * alignment;
}
