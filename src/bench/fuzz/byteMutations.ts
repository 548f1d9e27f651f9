/**
 * Format-blind mutations of a file's bytes (the "havoc" stage of a fuzzer): bit flips, interesting integers written
 * over random places, truncation, extension, copying a range over another. Each returns a new array and a label
 * naming what it did, so a failure can be told apart from the others in the report.
 */
import type { Rng } from "../../util/rng.js";

export interface Mutated {
  readonly bytes: Uint8Array;
  readonly label: string;
}

/** Integers that break size arithmetic: zero, one, sign boundaries, all-ones. */
export const INTERESTING_U32 = [0, 1, 2, 3, 4, 7, 8, 16, 31, 32, 33, 63, 64, 255, 256, 4095, 4096, 65535, 65536, 1 << 23, 1 << 24, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff] as const;
export const INTERESTING_U64 = [
  0n, 1n, 2n, 31n, 32n, 0x7fffffffn, 0xffffffffn, 0x100000000n, 0x1fffffffffffffn, 0x20000000000000n, 0x7fffffffffffffffn,
  0x8000000000000000n, 0xffffffffffffffffn,
] as const;

export function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng.next() * items.length)]!;
}

export function randomInt(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(rng.next() * (hi - lo + 1));
}

/** An interesting u64 for a field of the file: one of the fixed ones, or near the file's own length. */
export function interestingU64(rng: Rng, fileLength: number): bigint {
  if (rng.next() < 0.3) return BigInt(Math.max(0, fileLength + randomInt(rng, -64, 64)));
  return pick(rng, INTERESTING_U64);
}

export function flipBits(rng: Rng, bytes: Uint8Array): Mutated {
  const out = bytes.slice();
  const n = randomInt(rng, 1, 8);
  for (let i = 0; i < n && out.length > 0; i++) out[Math.floor(rng.next() * out.length)]! ^= 1 << randomInt(rng, 0, 7);
  return { bytes: out, label: `flip ${n} bits` };
}

export function writeInteresting(rng: Rng, bytes: Uint8Array): Mutated {
  const out = bytes.slice();
  if (out.length < 8) return flipBits(rng, bytes);
  const view = new DataView(out.buffer);
  const at = Math.floor(rng.next() * (out.length - 8));
  if (rng.next() < 0.5) view.setUint32(at, pick(rng, INTERESTING_U32), true);
  else view.setBigUint64(at, interestingU64(rng, out.length), true);
  return { bytes: out, label: "interesting integer at a random place" };
}

export function truncate(rng: Rng, bytes: Uint8Array): Mutated {
  // most cuts land in the header, where the parsing logic is
  const limit = rng.next() < 0.7 ? Math.min(bytes.length, 4096) : bytes.length;
  const at = Math.floor(rng.next() * limit);
  return { bytes: bytes.slice(0, at), label: "truncate" };
}

export function extend(rng: Rng, bytes: Uint8Array): Mutated {
  const extra = new Uint8Array(randomInt(rng, 1, 256));
  for (let i = 0; i < extra.length; i++) extra[i] = rng.nextU32() & 0xff;
  const out = new Uint8Array(bytes.length + extra.length);
  out.set(bytes);
  out.set(extra, bytes.length);
  return { bytes: out, label: "append bytes" };
}

export function copyRange(rng: Rng, bytes: Uint8Array): Mutated {
  const out = bytes.slice();
  if (out.length < 2) return flipBits(rng, bytes);
  const length = randomInt(rng, 1, Math.min(64, out.length - 1));
  const from = Math.floor(rng.next() * (out.length - length));
  const to = Math.floor(rng.next() * (out.length - length));
  out.copyWithin(to, from, from + length);
  return { bytes: out, label: "copy a range over another" };
}

const HAVOC = [flipBits, writeInteresting, truncate, extend, copyRange] as const;

/** One to three format-blind mutations in a row. */
export function havoc(rng: Rng, bytes: Uint8Array): Mutated {
  let current: Mutated = { bytes, label: "" };
  const rounds = randomInt(rng, 1, 3);
  const labels: string[] = [];
  for (let i = 0; i < rounds; i++) {
    current = pick(rng, HAVOC)(rng, current.bytes);
    labels.push(current.label);
  }
  return { bytes: current.bytes, label: `havoc: ${labels.join(", ")}` };
}
