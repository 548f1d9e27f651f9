/**
 * Structure-aware mutations of a GGUF file: each changes one field of the header as a hostile or damaged file
 * would (counts, lengths, types, offsets, alignment, duplicate keys, nested arrays, bad UTF-8, overlapping or
 * out-of-file tensors, NaN weights) and serializes without checks (rawGguf.ts).
 */
import type { Rng } from "../../util/rng.js";
import { GGUF_VALUE_TYPE_IDS } from "../../format/gguf/ggufValue.js";
import { INTERESTING_U32, interestingU64, pick, randomInt, type Mutated } from "./byteMutations.js";
import { serializeRawGguf, type RawGguf, type RawKeyValue } from "./rawGguf.js";

/** Byte sequences that are not UTF-8: a stray continuation, an overlong NUL, a surrogate, a cut sequence, 0xFF. */
const BAD_UTF8 = [[0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80]];

function cloneRaw(raw: RawGguf): RawGguf {
  return {
    ...raw,
    kvs: raw.kvs.map((kv) => ({ ...kv })),
    tensors: raw.tensors.map((t) => ({ ...t, dims: [...t.dims] })),
  };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const u32Payload = (value: number) => new Uint8Array(new Uint32Array([value >>> 0]).buffer);
const u64Payload = (value: bigint) => new Uint8Array(new BigUint64Array([BigInt.asUintN(64, value)]).buffer);

/** An array value nested `depth` levels deep, its innermost array `count` u8 elements (the count may lie). */
function nestedArrayPayload(depth: number, innerCount: bigint, innerBytes: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let level = 1; level < depth; level++) parts.push(u32Payload(GGUF_VALUE_TYPE_IDS.array), u64Payload(1n));
  parts.push(u32Payload(GGUF_VALUE_TYPE_IDS.u8), u64Payload(innerCount), new Uint8Array(innerBytes));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function withBadUtf8(rng: Rng, bytes: Uint8Array): Uint8Array {
  const bad = pick(rng, BAD_UTF8);
  const at = randomInt(rng, 0, bytes.length);
  const out = new Uint8Array(bytes.length + bad.length);
  out.set(bytes.subarray(0, at));
  out.set(bad, at);
  out.set(bytes.subarray(at), at + bad.length);
  return out;
}

type RawMutation = (rng: Rng, raw: RawGguf, fileLength: number) => string;

const anyKv = (rng: Rng, raw: RawGguf): RawKeyValue | undefined => (raw.kvs.length > 0 ? pick(rng, raw.kvs) : undefined);
const anyTensor = (rng: Rng, raw: RawGguf) => (raw.tensors.length > 0 ? pick(rng, raw.tensors) : undefined);
/** u32 scalar entries (hyper-parameters, token ids, alignment). */
const u32Kvs = (raw: RawGguf) => raw.kvs.filter((kv) => kv.typeId === GGUF_VALUE_TYPE_IDS.u32);

const MUTATIONS: Readonly<Record<string, RawMutation>> = {
  "version": (rng, raw) => {
    raw.version = pick(rng, [0, 1, 4, 0x02000000, 0x03000000, 0xffffffff]);
    return `version ${raw.version}`;
  },
  "huge tensor count": (rng, raw, n) => {
    raw.tensorCountOverride = interestingU64(rng, n);
    return `tensor count ${raw.tensorCountOverride}`;
  },
  "huge kv count": (rng, raw, n) => {
    raw.kvCountOverride = interestingU64(rng, n);
    return `kv count ${raw.kvCountOverride}`;
  },
  "hyper-parameter value": (rng, raw) => {
    const list = u32Kvs(raw);
    if (list.length === 0) return "no u32 entry";
    const kv = pick(rng, list);
    kv.payload = u32Payload(pick(rng, INTERESTING_U32));
    return `${text(kv.key)} = ${new Uint32Array(kv.payload.buffer)[0]}`;
  },
  "value type confusion": (rng, raw) => {
    const kv = anyKv(rng, raw);
    if (!kv) return "no kv";
    kv.typeId = randomInt(rng, 0, 14);
    return `${text(kv.key)} type id ${kv.typeId}`;
  },
  "duplicate key": (rng, raw) => {
    const kv = anyKv(rng, raw);
    if (!kv) return "no kv";
    raw.kvs.splice(randomInt(rng, 0, raw.kvs.length), 0, { ...kv });
    return `${text(kv.key)} twice`;
  },
  "drop key": (rng, raw) => {
    const i = randomInt(rng, 0, raw.kvs.length - 1);
    const [kv] = raw.kvs.splice(i, 1);
    return `without ${kv ? text(kv.key) : "?"}`;
  },
  "nested arrays": (rng, raw) => {
    const kv = anyKv(rng, raw);
    if (!kv) return "no kv";
    const depth = randomInt(rng, 1, 12);
    const lie = rng.next() < 0.5;
    kv.typeId = GGUF_VALUE_TYPE_IDS.array;
    kv.payload = nestedArrayPayload(depth, lie ? 0xffffffffffffn : 4n, 4);
    return `${text(kv.key)} as arrays nested ${depth} deep${lie ? " with a huge count" : ""}`;
  },
  "string length": (rng, raw, n) => {
    const strings = raw.kvs.filter((kv) => kv.typeId === GGUF_VALUE_TYPE_IDS.string);
    const kv = strings.length > 0 ? pick(rng, strings) : undefined;
    if (!kv) return "no string";
    new DataView(kv.payload.buffer, kv.payload.byteOffset).setBigUint64(0, interestingU64(rng, n), true);
    return `${text(kv.key)} string length lies`;
  },
  "array count": (rng, raw, n) => {
    const arrays = raw.kvs.filter((kv) => kv.typeId === GGUF_VALUE_TYPE_IDS.array);
    const kv = arrays.length > 0 ? pick(rng, arrays) : undefined;
    if (!kv) return "no array";
    new DataView(kv.payload.buffer, kv.payload.byteOffset).setBigUint64(4, interestingU64(rng, n), true);
    return `${text(kv.key)} element count lies`;
  },
  "bad utf-8 key": (rng, raw) => {
    const kv = anyKv(rng, raw);
    if (!kv) return "no kv";
    kv.key = withBadUtf8(rng, kv.key);
    return "a key that is not UTF-8";
  },
  "bad utf-8 string": (rng, raw) => {
    const strings = raw.kvs.filter((kv) => kv.typeId === GGUF_VALUE_TYPE_IDS.string);
    const kv = strings.length > 0 ? pick(rng, strings) : undefined;
    if (!kv) return "no string";
    const body = withBadUtf8(rng, kv.payload.subarray(8));
    kv.payload = new Uint8Array(8 + body.length);
    new DataView(kv.payload.buffer).setBigUint64(0, BigInt(body.length), true);
    kv.payload.set(body, 8);
    return `${text(kv.key)} value is not UTF-8`;
  },
  "bad utf-8 tensor name": (rng, raw) => {
    const t = anyTensor(rng, raw);
    if (!t) return "no tensor";
    t.name = withBadUtf8(rng, t.name);
    return "a tensor name that is not UTF-8";
  },
  "alignment": (rng, raw) => {
    const value = pick(rng, [0, 1, 3, 8, 64, 48, 4096, 0x80000000, 0xffffffff]);
    const existing = raw.kvs.find((kv) => text(kv.key) === "general.alignment");
    const kv = existing ?? { key: new TextEncoder().encode("general.alignment"), typeId: GGUF_VALUE_TYPE_IDS.u32, payload: u32Payload(32) };
    if (!existing) raw.kvs.push(kv);
    if (rng.next() < 0.2) {
      kv.typeId = GGUF_VALUE_TYPE_IDS.u64;
      kv.payload = u64Payload(BigInt(value));
    } else kv.payload = u32Payload(value);
    if (rng.next() < 0.5 && value > 0 && value <= 1 << 16) raw.alignment = value; // pad to it too: a consistent file
    return `alignment ${value}`;
  },
  "tensor dims": (rng, raw, n) => {
    const t = anyTensor(rng, raw);
    if (!t) return "no tensor";
    const choice = rng.next();
    if (choice < 0.3) t.dims = Array.from({ length: pick(rng, [0, 5, 64]) }, () => 1n);
    else if (choice < 0.6) t.dims[randomInt(rng, 0, t.dims.length - 1)] = interestingU64(rng, n);
    else t.dims.reverse();
    return `${text(t.name)} dims [${t.dims.join(", ")}]`;
  },
  "tensor type": (rng, raw) => {
    const t = anyTensor(rng, raw);
    if (!t) return "no tensor";
    t.typeId = rng.next() < 0.8 ? randomInt(rng, 0, 40) : 0xffffffff;
    return `${text(t.name)} type id ${t.typeId}`;
  },
  "tensor offset": (rng, raw, n) => {
    const t = anyTensor(rng, raw);
    if (!t) return "no tensor";
    const choice = rng.next();
    if (choice < 0.4) t.offset = interestingU64(rng, n);
    else if (choice < 0.7) t.offset += BigInt(randomInt(rng, 1, 31)); // misaligned
    else t.offset = BigInt(raw.data.length) - BigInt(randomInt(rng, 0, 64) * 32); // at or near the end
    return `${text(t.name)} offset ${t.offset}`;
  },
  "overlapping tensors": (rng, raw) => {
    const a = anyTensor(rng, raw);
    const b = anyTensor(rng, raw);
    if (!a || !b) return "no tensor";
    b.offset = a.offset;
    return `${text(b.name)} shares ${text(a.name)}'s data`;
  },
  "duplicate tensor": (rng, raw) => {
    const t = anyTensor(rng, raw);
    if (!t) return "no tensor";
    raw.tensors.push({ ...t, dims: [...t.dims] });
    return `${text(t.name)} twice`;
  },
  "drop tensor": (rng, raw) => {
    const [t] = raw.tensors.splice(randomInt(rng, 0, raw.tensors.length - 1), 1);
    return `without ${t ? text(t.name) : "?"}`;
  },
  "non-finite weights": (rng, raw) => {
    const data = raw.data.slice();
    const view = new DataView(data.buffer);
    const count = randomInt(rng, 1, 4);
    for (let i = 0; i < count; i++) {
      const at = Math.floor(rng.next() * (data.length / 4)) * 4;
      // f32 NaN / infinity, or an f16 infinity pair (q8_0/q4_0 scales and f16 weights)
      if (rng.next() < 0.5) view.setFloat32(at, pick(rng, [Number.NaN, Infinity, -Infinity, 3e38]), true);
      else view.setUint16(at, pick(rng, [0x7c00, 0xfc00, 0x7e00, 0x7bff]), true);
    }
    raw.data = data;
    return `${count} non-finite or huge weights`;
  },
};

export const GGUF_MUTATION_NAMES = Object.keys(MUTATIONS);

/** One structural mutation (sometimes two), then format-blind havoc on top with probability `havocChance`. */
export function mutateGguf(rng: Rng, raw: RawGguf, fileLength: number): Mutated {
  const copy = cloneRaw(raw);
  const labels: string[] = [];
  const rounds = rng.next() < 0.2 ? 2 : 1;
  for (let i = 0; i < rounds; i++) {
    const name = pick(rng, GGUF_MUTATION_NAMES);
    labels.push(`${name}: ${MUTATIONS[name]!(rng, copy, fileLength)}`);
  }
  return { bytes: serializeRawGguf(copy), label: labels.join("; ") };
}
