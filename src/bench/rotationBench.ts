import { Engine } from "../engine/Engine.js";
import { Session } from "../engine/Session.js";
import { parseKvSpec } from "../cache/spec.js";
import { ROTATION_SEED } from "../cache/RotatedCache.js";
import { argmax } from "../generate/sampler.js";
import { emit, median, medianSeconds } from "./timing.js";

/**
 * What rotate=hadamard costs per decode step. Two figures from one run:
 *   transform  the hadamard_rows kernel alone on the rows one decode step rotates: per layer the token's K and V
 *              (2·nKvHeads rows), the queries (nHeads rows, once per KV head's block) and the outputs rotated back
 *              (nHeads rows), all of D values (median of repeated runs);
 *   step       greedy decode steps to `tokens` positions with each cache spec and its rotated twin, interleaved
 *              (rotated, plain, rotated, ...) so machine noise hits both alike; the mean of the last 64 steps.
 * JSON lines; ratios within one run are what to read (the machine is shared).
 */
export async function benchRotation(modelPath: string, tokenizerPath: string | undefined, specs: readonly string[], tokens: number, threads: number): Promise<void> {
  const engine = await Engine.load(modelPath, tokenizerPath, threads);
  try {
    const { nLayers, nHeads, nKvHeads, headDim: D } = engine.config;
    const rowsPerStep = nLayers * (2 * nKvHeads + 2 * nHeads);
    const heap = engine.compute.heap;
    const region = heap.alloc(rowsPerStep * D * 4, "bench rows");
    try {
      heap.f32(region).fill(0.5);
      const kernels = engine.compute.kernels;
      const reps = 2000;
      const seconds = medianSeconds(5, () => {
        for (let i = 0; i < reps; i++) kernels.hadamard_rows(0, rowsPerStep, region.ptr, D, ROTATION_SEED, 0, 0, nKvHeads, i & 1);
      });
      emit({ bench: "rotation-transform", model: modelPath.split("/").pop(), headDim: D, rowsPerStep, usPerStep: round((seconds / reps) * 1e6) });
    } finally {
      heap.free(region);
    }
    for (const spec of specs) {
      const rotatedSpec = `${spec}${spec.includes(":") ? "," : ":"}rotate=hadamard`;
      const times: Record<string, number[]> = { [spec]: [], [rotatedSpec]: [] };
      for (let run = 0; run < 3; run++) {
        for (const s of [rotatedSpec, spec]) times[s]!.push(decodeStepMs(engine, s, tokens));
      }
      const plainMs = median(times[spec]!);
      const rotatedMs = median(times[rotatedSpec]!);
      emit({ bench: "rotation-step", model: modelPath.split("/").pop(), spec, threads, tokens, plainStepMs: round(plainMs), rotatedStepMs: round(rotatedMs), ratio: round(rotatedMs / plainMs) });
    }
  } finally {
    engine.dispose();
  }
}

function decodeStepMs(engine: Engine, spec: string, tokens: number): number {
  const tail = 64;
  const cache = engine.createCache(parseKvSpec(spec));
  try {
    const session = new Session(engine, cache);
    let logits = session.prefill(Int32Array.of(engine.tokenizer.bosId));
    let total = 0;
    for (let pos = 1; pos < tokens; pos++) {
      const next = argmax(logits);
      const t0 = performance.now();
      logits = session.step(next);
      if (pos >= tokens - tail) total += performance.now() - t0;
    }
    return total / tail;
  } finally {
    cache.dispose();
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
