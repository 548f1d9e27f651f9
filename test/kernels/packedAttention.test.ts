import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Compute } from "../../src/kernels/Compute.js";
import {
  attnMixPackedRef, attnScoresPackedRef, packedLayoutArgs, type PackedPartLayout,
} from "../../src/kernels/reference/packedAttentionRef.js";
import {
  HeapScope, KERNEL_RELATIVE, ORACLE_RELATIVE, assertWithinAllowed, createRandom, denseMix, denseScores, gaussianFloats,
  queryRoundingBound, softmaxRows, tolerances,
} from "./packedTestSupport.js";
import { buildPackedPart, type GroupScope, type PackedPartFixture } from "./packedPartFixture.js";
import { f16ToF32 } from "../../src/quant/fp16.js";

// attn_scores_packed / attn_mix_packed against (1) the float64 reference that reads the packed bytes and (2) a dense
// oracle built from the UNPACKED codes (packedPartFixture.ts); both the serial call and the 2-thread split.

const N_KV = 4;
let compute: Compute;

before(async () => {
  compute = await Compute.create(2);
});

after(() => compute.dispose());

interface PartCase {
  readonly scope: GroupScope;
  readonly D: number;
  readonly perSide: number;
  /** a fixed width, or "mixed": every group its own random width 0..8 or empty (15) */
  readonly widths: number | "mixed";
  readonly T: number;
  readonly nq: number;
  readonly seed: number;
}

function describe(c: PartCase): string {
  return `scope ${c.scope}, D ${c.D}, outliers ${2 * c.perSide}, widths ${c.widths}, T ${c.T}, nq ${c.nq}`;
}

function buildCase(scope: HeapScope, c: PartCase, random: () => number): PackedPartFixture {
  const mixed = (): number => {
    const w = Math.floor(random() * 10);
    return w === 9 ? 15 : w;
  };
  const widthOf = c.widths === "mixed" ? mixed : () => c.widths as number;
  return buildPackedPart(scope, random, { T: c.T, nKv: N_KV, D: c.D, scope: c.scope, perSide: c.perSide, widthOf });
}

/** Runs `kernel` serially and split over the pool, each time from an output prefilled with NaN. */
function runBothWays(name: "attn_scores_packed" | "attn_mix_packed", rows: number, grain: number, args: number[], out: Float32Array, check: (mode: string) => void): void {
  out.fill(NaN);
  (compute.kernels[name] as (...a: number[]) => void)(0, rows, ...args);
  check("serial");
  out.fill(NaN);
  compute.parallel(name, rows, args, grain);
  check("2 threads");
}

/** 1e-4 of Σ|q·x^| plus the int16 query rounding bound of the integer path (packedTestSupport.ts). */
function scoreTolerances(q: Float32Array, part: PackedPartFixture, head: number, magnitudes: Float64Array, nq: number, D: number, T: number): Float64Array {
  return tolerances(magnitudes, KERNEL_RELATIVE, (k) => {
    const i = Math.floor(k / T);
    return queryRoundingBound(q, i, D, part.codeMass[(k % T) * N_KV + head]!);
  });
}

function checkScores(scope: HeapScope, c: PartCase, part: PackedPartFixture, layout: PackedPartLayout, head: number, random: () => number): void {
  const { nq, D, T } = c;
  const q = scope.floats(gaussianFloats(random, nq * D), "q");
  const out = scope.floats(new Float32Array(nq * T), "scores");
  const oracle = denseScores(q.view, part.dense, N_KV * D, head * D, nq, D, T);
  const reference = new Float64Array(nq * T);
  attnScoresPackedRef(scope.bytes(), layout, q.view, reference, nq, D, T);
  assertWithinAllowed(reference, oracle.scores, tolerances(oracle.magnitudes, ORACLE_RELATIVE), `${describe(c)}: scores reference vs oracle`);
  const allowed = scoreTolerances(q.view, part, head, oracle.magnitudes, nq, D, T);
  const args = [q.ptr, out.ptr, nq, D, T, ...packedLayoutArgs(layout)];
  runBothWays("attn_scores_packed", T, 1, args, out.view, (mode) => {
    assertWithinAllowed(out.view, reference, allowed, `${describe(c)}: scores, ${mode}`);
  });
}

/** Tokens per chunk of the mix's int16 weights (lib/probabilityCodes.ts). */
const MIX_CHUNK = 256;

/**
 * 1e-4 of Σ p·|x^| plus the int16 rounding of the weights p·scale: step s = max_{t in chunk} p_t·scale_t/32767 per
 * chunk, error ≤ s/2·c_t per token with c_t ≤ 2^b − 1; 1% slack for the f32 rounding of s.
 */
function mixTolerances(p: Float32Array, part: PackedPartFixture, head: number, magnitudes: Float64Array, nq: number, D: number, T: number): Float64Array {
  const perRow = Array.from({ length: nq }, (_, i) => {
    let bound = 0;
    for (let t0 = 0; t0 < T; t0 += MIX_CHUNK) {
      let peak = 0;
      let codes = 0;
      for (let t = t0; t < Math.min(T, t0 + MIX_CHUNK); t++) {
        peak = Math.max(peak, p[i * T + t]! * part.codeScale[t * N_KV + head]!);
        codes += part.codeMax[t * N_KV + head]!;
      }
      bound += (peak / 32767 / 2) * codes;
    }
    return bound * 1.01;
  });
  return tolerances(magnitudes, KERNEL_RELATIVE, (k) => perRow[Math.floor(k / D)]!);
}

function checkMix(scope: HeapScope, c: PartCase, part: PackedPartFixture, layout: PackedPartLayout, head: number, random: () => number): void {
  const { nq, D, T } = c;
  const p = scope.floats(softmaxRows(random, nq, T), "p");
  const out = scope.floats(new Float32Array(nq * D), "mix");
  const oracle = denseMix(p.view, part.dense, N_KV * D, head * D, nq, D, T);
  const reference = new Float64Array(nq * D);
  attnMixPackedRef(scope.bytes(), layout, p.view, reference, nq, D, T);
  assertWithinAllowed(reference, oracle.mix, tolerances(oracle.magnitudes, ORACLE_RELATIVE), `${describe(c)}: mix reference vs oracle`);
  const allowed = mixTolerances(p.view, part, head, oracle.magnitudes, nq, D, T);
  const scratch = scope.alloc(compute.kernels.mix_scratch_bytes(nq, D), "mix scratch");
  const args = [p.ptr, scratch.ptr, out.ptr, nq, D, T, ...packedLayoutArgs(layout)];
  runBothWays("attn_mix_packed", D, 16, args, out.view, (mode) => {
    assertWithinAllowed(out.view, reference, allowed, `${describe(c)}: mix, ${mode}`);
  });
}

function checkCase(c: PartCase): void {
  const scope = new HeapScope(compute.heap);
  try {
    const random = createRandom(c.seed);
    const part = buildCase(scope, c, random);
    const head = c.seed % N_KV;
    const layout = part.layoutFor(head);
    checkScores(scope, c, part, layout, head, random);
    checkMix(scope, c, part, layout, head, random);
  } finally {
    scope.dispose();
  }
}

test("every width 0..8 and mixed, outliers 0/2/4, D 8/64/72/128, group=head and group=layer (T 300)", () => {
  let seed = 1;
  for (const scope of ["head", "layer"] as const) {
    for (const D of [8, 64, 72, 128]) {
      for (const perSide of [0, 1, 2]) {
        for (const widths of [0, 1, 2, 3, 4, 5, 6, 7, 8, "mixed"] as const) {
          // T 300 puts most tokens on the integer path even when split over 2 threads; nq cycles through 1..8
          checkCase({ scope, D, perSide, widths, T: 300, nq: 1 + (seed % 8), seed: seed++ });
        }
      }
    }
  }
});

test("T 1/7/33/100 with nq 1..8, mixed widths (short slices: float path and the int/float boundary)", () => {
  let seed = 1000;
  for (const scope of ["head", "layer"] as const) {
    for (const D of [64, 72]) {
      for (const T of [1, 7, 33, 100]) {
        for (let nq = 1; nq <= 8; nq++) checkCase({ scope, D, perSide: 1, widths: "mixed", T, nq, seed: seed++ });
      }
    }
  }
});

test("prefill-sized query blocks: nq 12, 13, 20 (groups of 8, 4 and single queries)", () => {
  let seed = 5000;
  for (const nq of [12, 13, 20]) {
    for (const D of [64, 72]) checkCase({ scope: "layer", D, perSide: 1, widths: "mixed", T: 400, nq, seed: seed++ });
  }
});

test("scalar path: odd head size, and element offsets that are not multiples of 8", () => {
  checkCase({ scope: "head", D: 5, perSide: 1, widths: "mixed", T: 50, nq: 3, seed: 2001 });
  // group=layer with D 12: heads 1 and 3 start at elements 12 and 36
  for (const seed of [2003, 2005]) checkCase({ scope: "layer", D: 12, perSide: 2, widths: "mixed", T: 50, nq: 5, seed });
});

test("a call writes only its own rows (the parked scratch stays inside its slice)", () => {
  const scope = new HeapScope(compute.heap);
  try {
    const random = createRandom(3001);
    const D = 64, T = 200, nq = 6, head = 2;
    const part = buildPackedPart(scope, random, { T, nKv: N_KV, D, scope: "head", perSide: 1, widthOf: () => 4 });
    const layout = part.layoutFor(head);
    const q = scope.floats(gaussianFloats(random, nq * D), "q");
    const out = scope.floats(new Float32Array(nq * T + 16), "scores + guard");
    const reference = new Float64Array(nq * T);
    attnScoresPackedRef(scope.bytes(), layout, q.view, reference, nq, D, T);
    const { magnitudes } = denseScores(q.view, part.dense, N_KV * D, head * D, nq, D, T);
    const allowed = scoreTolerances(q.view, part, head, magnitudes, nq, D, T);
    const begin = 13, end = 181;
    out.view.fill(777);
    compute.kernels.attn_scores_packed(begin, end, q.ptr, out.ptr, nq, D, T, ...(packedLayoutArgs(layout) as [number, number, number, number, number, number, number]));
    const inside = (k: number): boolean => k < nq * T && k % T >= begin && k % T < end;
    assertWithinAllowed(out.view, reference, allowed, "rows [13, 181)", inside);
    for (let k = 0; k < out.view.length; k++) if (!inside(k)) assert.equal(out.view[k], 777, `element ${k} outside the slice was written`);

    const p = scope.floats(softmaxRows(random, nq, T), "p");
    const mix = scope.floats(new Float32Array(nq * D + 16), "mix + guard");
    mix.view.fill(777);
    const scratch = scope.alloc(compute.kernels.mix_scratch_bytes(nq, D), "mix scratch");
    compute.kernels.attn_mix_packed(16, 48, p.ptr, scratch.ptr, mix.ptr, nq, D, T, ...(packedLayoutArgs(layout) as [number, number, number, number, number, number, number]));
    const mixReference = new Float64Array(nq * D);
    attnMixPackedRef(scope.bytes(), layout, p.view, mixReference, nq, D, T);
    const mixMagnitudes = denseMix(p.view, part.dense, N_KV * D, head * D, nq, D, T).magnitudes;
    const inDims = (k: number): boolean => k < nq * D && k % D >= 16 && k % D < 48;
    assertWithinAllowed(mix.view, mixReference, mixTolerances(p.view, part, head, mixMagnitudes, nq, D, T), "dims [16, 48)", inDims);
    for (let k = 0; k < mix.view.length; k++) if (!inDims(k)) assert.equal(mix.view[k], 777, `mix element ${k} outside the slice was written`);
  } finally {
    scope.dispose();
  }
});

test("an impossible stored width (9) gives NaN for that token, not a read with a wrong width", () => {
  const scope = new HeapScope(compute.heap);
  try {
    const random = createRandom(4001);
    const D = 64, T = 150, nq = 2;
    const part = buildPackedPart(scope, random, { T, nKv: 1, D, scope: "head", perSide: 1, widthOf: () => 3 });
    const layout = part.layoutFor(0);
    const bad = [5, 120]; // one on the integer path, one on the float tail
    const memory = scope.bytes();
    for (const t of bad) memory[layout.bits + (t >> 1)] = (memory[layout.bits + (t >> 1)]! & ~(15 << ((t & 1) * 4))) | (9 << ((t & 1) * 4));
    const q = scope.floats(gaussianFloats(random, nq * D), "q");
    const out = scope.floats(new Float32Array(nq * T), "scores");
    compute.kernels.attn_scores_packed(0, T, q.ptr, out.ptr, nq, D, T, ...(packedLayoutArgs(layout) as [number, number, number, number, number, number, number]));
    for (let i = 0; i < nq; i++) {
      for (let t = 0; t < T; t++) assert.equal(Number.isNaN(out.view[i * T + t]), bad.includes(t), `query ${i}, token ${t}`);
    }
    void part;
  } finally {
    scope.dispose();
  }
});

test("f16 scales and zeros decode exactly: all 65536 bit patterns (zeros, subnormals, Inf, NaN), both score paths", () => {
  const scope = new HeapScope(compute.heap);
  try {
    // width-0 groups, so x^ = zero + 0.5·scale for the whole head; q = 1/8 everywhere, so every score is that x^ exactly
    const T = 65536, D = 8, nq = 1;
    const blocks = scope.alloc(4 * (T / 256), "block table");
    const codes = scope.alloc(64, "empty slots");
    new Uint32Array(compute.heap.memory.buffer, blocks.ptr, T / 256).fill(codes.ptr);
    const bits = scope.alloc(T / 2, "widths"); // zero-filled: width 0
    const scales = scope.alloc(2 * T, "scales");
    const zeros = scope.alloc(2 * T, "zeros");
    const q = scope.floats(new Float32Array(D).fill(0.125), "q");
    const out = scope.floats(new Float32Array(T), "scores");
    const patterns = Uint16Array.from({ length: T }, (_, h) => h);
    const layout: PackedPartLayout = {
      blocks: blocks.ptr, bits: bits.ptr, scale: scales.ptr, zero: zeros.ptr, elemOffset: 0, groupLen: D, nOut: 0,
    };
    const args = [q.ptr, out.ptr, nq, D, T, ...packedLayoutArgs(layout)];
    const scores = compute.kernels.attn_scores_packed as unknown as (...a: number[]) => void;
    for (const field of ["zero", "scale"] as const) {
      compute.heap.u16(zeros).set(field === "zero" ? patterns : new Uint16Array(T));
      compute.heap.u16(scales).set(field === "scale" ? patterns : new Uint16Array(T));
      const expected = Array.from(patterns, (h) => (field === "zero" ? f16ToF32(h) : 0.5 * f16ToF32(h)));
      const check = (path: string): void => {
        for (let t = 0; t < T; t++) {
          const ok = Number.isNaN(expected[t]!) ? Number.isNaN(out.view[t]!) : out.view[t] === expected[t];
          if (!ok) assert.fail(`${field} bits 0x${t.toString(16)}, ${path}: got ${out.view[t]}, expected ${expected[t]}`);
        }
      };
      out.view.fill(777);
      scores(0, T, ...args);
      check("one slice (integer path)");
      out.view.fill(777);
      for (let begin = 0; begin < T; begin += 32) scores(begin, begin + 32, ...args);
      check("slices of 32 tokens (float path)");
    }
  } finally {
    scope.dispose();
  }
});
