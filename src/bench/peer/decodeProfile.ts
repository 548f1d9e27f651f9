import { Session } from "node:inspector/promises";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Engine } from "../../engine/Engine.js";
import { Session as EngineSession } from "../../engine/Session.js";
import { parseKvSpec } from "../../cache/spec.js";
import { UsageError } from "../../util/errors.js";
import { emit } from "../timing.js";
import { decodeToken } from "./sweep.js";
import { wasmFunctionNames } from "./wasmFunctionNames.js";

/**
 * `node dist/src/bench/peer/decodeProfile.js <model.gguf> <kv spec> <threads> <context> <steps>`: where our decode
 * time goes at one context length. A V8 CPU profile (node:inspector) covers the decode steps alone; its samples are
 * summed per exported wasm kernel (by name), other wasm, JavaScript, and idle/GC. One JSON line on stdout.
 * The context is filled by a prefill in blocks of 64 tokens, as in the peer sweep (a 16K context takes about half a
 * minute): a cache filled through the seam alone would leave QAQ's attention window empty, so every token would
 * still be young and mature all at once during the profiled steps. Only the main thread is profiled, so the split is
 * complete with 1 thread. QAQ_PROFILE_OUT=<file> also writes the raw V8 profile (for a per-function view).
 */
const FILL_CHUNK = 64;
const WARMUP_STEPS = 4;
const KERNELS_WASM = fileURLToPath(new URL("../../../kernels.wasm", import.meta.url));

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

async function main(): Promise<void> {
  const [path, spec, threadsText, contextText, stepsText] = process.argv.slice(2);
  if (stepsText === undefined) throw new UsageError("usage: decodeProfile <model.gguf> <kv spec> <threads> <context> <steps>");
  const [threads, context, steps] = [Number(threadsText), Number(contextText), Number(stepsText)];
  for (const [field, value] of [["context", context], ["steps", steps]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`decodeProfile: ${field} must be a positive integer, got ${value}`);
  }
  const engine = await Engine.load(path!, undefined, threads);
  try {
    const { vocabSize } = engine.config;
    const cache = engine.createCache(parseKvSpec(spec!), context + WARMUP_STEPS + steps);
    // the context is a real prefill (blocks of FILL_CHUNK tokens), so caches that keep statistics of the attention
    // (QAQ's window, H2O's scores) see it as they do in the peer sweep
    const run = new EngineSession(engine, cache);
    run.prefill(Int32Array.from({ length: context }, (_, j) => decodeToken(j, vocabSize)), FILL_CHUNK);

    const step = (i: number): void => void run.step(decodeToken(i, vocabSize));
    for (let i = 0; i < WARMUP_STEPS; i++) step(i);
    const session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.start");
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step(WARMUP_STEPS + i);
    const seconds = (performance.now() - t0) / 1000;
    const { profile } = (await session.post("Profiler.stop")) as { profile: CpuProfile };
    const profileOut = process.env["QAQ_PROFILE_OUT"];
    if (profileOut !== undefined) writeFileSync(profileOut, JSON.stringify(profile));
    session.disconnect();
    cache.dispose();
    emit({ bench: "decodeProfile", model: path, cache: spec, threads, context, steps, decodeTokensPerSecond: round(steps / seconds), msPerStep: splitPerStep(profile, steps) });
  } finally {
    engine.dispose();
  }
}

/** Milliseconds per decode step by category, largest first. */
function splitPerStep(profile: CpuProfile, steps: number): Record<string, number> {
  const kernelNames = wasmFunctionNames(KERNELS_WASM);
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame.functionName]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const name = byId.get(id) ?? "";
    const wasm = /^wasm-function\[(\d+)\]$/.exec(name);
    const category = wasm
      ? `wasm ${kernelNames.get(Number(wasm[1])) ?? "(not exported)"}`
      : ["(idle)", "(program)", "(garbage collector)"].includes(name) ? name : "JavaScript";
    totals.set(category, (totals.get(category) ?? 0) + profile.timeDeltas[i]! / 1000);
  });
  return Object.fromEntries([...totals].sort((a, b) => b[1] - a[1]).map(([k, ms]) => [k, round(ms / steps)]));
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

main().catch((error: unknown) => {
  process.stderr.write(`decodeProfile: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
