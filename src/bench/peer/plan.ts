import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { convertLlama2cToGguf } from "../../format/convert.js";
import { DEFAULT_MODEL, DEFAULT_TOKENIZER } from "../../cli/defaults.js";
import { SHALLOW_LONG_SHAPE, TINYLLAMA_SHAPE, syntheticModelPath } from "../syntheticModels.js";
import type { BenchModel, PeerKvType, SweepShape } from "./job.js";

/**
 * What `npm run bench:peer` measures: one suite per kind of model file. For each model, both engines first run the
 * baseline cache (ours fp16, llama.cpp f16) at 1 and 2 threads over `threadProbe`; every other cache then runs at
 * the thread count that decoded faster for that engine (the better one is what the tables compare). Some caches stop
 * at a shorter context (`contextLimits`), to keep the whole run near 20 minutes.
 */
export interface PeerSuite {
  readonly name: string;
  readonly models: () => Promise<readonly BenchModel[]>;
  readonly sweep: SweepShape;
  /** the sweep of the thread-count probe: some of the lengths of `sweep.contexts` */
  readonly threadProbe: SweepShape;
  readonly ourCaches: readonly string[];
  readonly peerCaches: readonly PeerKvType[];
  /**
   * Longest context length per cache (our spec or the peer's type) where a cache stops before the end of `sweep`:
   * the long-context targets need fp32 and the low-bit caches at the longest length; the others stop earlier because
   * growing our context is slow there (our prefill at 8K-16K tokens runs at tens of tokens/s).
   */
  readonly contextLimits: Readonly<Record<string, number>>;
}

export const THREAD_COUNTS: readonly number[] = [1, 2];
export const OUR_BASELINE_CACHE = "fp16";
export const PEER_BASELINE_CACHE: PeerKvType = "f16";

/** Each of our caches and the llama.cpp cache type it is compared with (the nearest in bits per value). */
export const PEER_CACHE_FOR: Readonly<Record<string, PeerKvType>> = {
  fp32: "f32",
  fp16: "f16",
  "blockq:q8_0": "q8_0",
  "blockq:q4_0": "q4_0",
  "kivi:bits=4": "q4_0",
  "kivi:bits=2": "q4_0",
  qaq: "q4_0",
};

/** Caches of 4 bits or fewer (and QAQ) that the long-context targets are about. */
export const LOW_BIT_CACHES: readonly string[] = ["blockq:q4_0", "kivi:bits=4", "kivi:bits=2", "qaq"];

const OUR_CACHES: readonly string[] = ["fp32", "fp16", "blockq:q8_0", "blockq:q4_0", "kivi:bits=4", "kivi:bits=2", "qaq"];
const PEER_CACHES: readonly PeerKvType[] = ["f32", "f16", "q8_0", "q4_0"];

export const PEER_SUITES: readonly PeerSuite[] = [
  {
    name: "stories",
    models: storiesModels,
    // the model's context is 512: 384 + 3 x 32 decode steps still fits
    sweep: { prefillTokens: 128, contexts: [128, 384], decodeSteps: 32, repeats: 3 },
    threadProbe: { prefillTokens: 128, contexts: [128], decodeSteps: 32, repeats: 3 },
    ourCaches: OUR_CACHES,
    peerCaches: PEER_CACHES,
    contextLimits: {},
  },
  {
    name: "tinyllama",
    models: tinyLlamaShapeModel,
    // short context only: at ~20 prefill tokens/s a longer context would cost minutes per cache
    sweep: { prefillTokens: 64, contexts: [128], decodeSteps: 8, repeats: 3 },
    threadProbe: { prefillTokens: 64, contexts: [128], decodeSteps: 8, repeats: 3 },
    ourCaches: OUR_CACHES,
    peerCaches: PEER_CACHES,
    contextLimits: {},
  },
  {
    name: "shallow",
    models: shallowLongModel,
    sweep: { prefillTokens: 128, contexts: [128, 512, 2048, 4096, 8192], decodeSteps: 16, repeats: 3 },
    threadProbe: { prefillTokens: 128, contexts: [128, 2048], decodeSteps: 16, repeats: 3 },
    ourCaches: OUR_CACHES,
    peerCaches: PEER_CACHES,
    contextLimits: { fp16: 2048, "blockq:q8_0": 2048 },
  },
  {
    // K-quant weights (issue 14): decode and prefill with the Q4_K_M mix at L=128, the baseline caches only
    name: "kquant",
    models: tinyLlamaShapeQ4KM,
    sweep: { prefillTokens: 128, contexts: [128], decodeSteps: 16, repeats: 3 },
    threadProbe: { prefillTokens: 128, contexts: [128], decodeSteps: 16, repeats: 3 },
    ourCaches: ["fp16"],
    peerCaches: ["f16"],
    contextLimits: {},
  },
  {
    // not in the default run: growing both engines to 16K tokens takes ~15 minutes on this machine
    name: "long",
    models: shallowLongModel,
    sweep: { prefillTokens: 128, contexts: [128, 8192, 16384], decodeSteps: 16, repeats: 3 },
    threadProbe: { prefillTokens: 128, contexts: [128], decodeSteps: 16, repeats: 3 },
    ourCaches: ["fp32", "blockq:q4_0"],
    peerCaches: ["q4_0"],
    contextLimits: {},
  },
];

/** Suites run when none is named: all but `long`, about 15-20 minutes in all. */
export const DEFAULT_SUITES: readonly string[] = ["stories", "tinyllama", "shallow"];

/** The sweep a cache runs in a suite: the full one cut at the cache's context limit, if it has one. */
export function sweepFor(suite: PeerSuite, cache: string): SweepShape {
  const limit = suite.contextLimits[cache];
  if (limit === undefined) return suite.sweep;
  return { ...suite.sweep, contexts: suite.sweep.contexts.filter((length) => length <= limit) };
}

/**
 * The GGUF files both engines run. llama.cpp reads GGUF only, so the bundled llama.c checkpoint is converted first
 * (to f32 and q8_0) into the same temp folder as the synthetic models; every file is written once and reused.
 */
export async function storiesModels(): Promise<readonly BenchModel[]> {
  const dir = join(tmpdir(), "qaq-bench-models");
  mkdirSync(dir, { recursive: true });
  const models: BenchModel[] = [];
  for (const type of ["f32", "q8_0"] as const) {
    const path = join(dir, `stories260K-${type}.gguf`);
    if (!existsSync(path)) {
      process.stderr.write(`converting ${DEFAULT_MODEL} to ${path} ...\n`);
      await convertLlama2cToGguf(DEFAULT_MODEL, DEFAULT_TOKENIZER, path, type);
    }
    models.push({ label: `stories260K ${type}`, weightType: type, path });
  }
  return models;
}

/** 22 layers x dim 2048, 4 KV heads, vocab 32000: TinyLlama-1.1B's shape with random Q8_0 weights (~1.2 GB). */
export async function tinyLlamaShapeModel(): Promise<readonly BenchModel[]> {
  const path = await syntheticModelPath("tinyllama-shape", TINYLLAMA_SHAPE, "q8_0");
  return [{ label: "TinyLlama-shape q8_0", weightType: "q8_0", path }];
}

/** TinyLlama-1.1B's shape in llama.cpp's Q4_K_M mix (Q4_K, Q6_K for output and some attn_v/ffn_down; ~0.7 GB). */
export async function tinyLlamaShapeQ4KM(): Promise<readonly BenchModel[]> {
  const path = await syntheticModelPath("tinyllama-shape", TINYLLAMA_SHAPE, "q4_k_m");
  return [{ label: "TinyLlama-shape q4_k_m", weightType: "q4_k_m", path }];
}

/** The same KV shape in 2 layers with a 32768-token context: long contexts at a bearable prefill cost. */
export async function shallowLongModel(): Promise<readonly BenchModel[]> {
  const path = await syntheticModelPath("shallow-long", SHALLOW_LONG_SHAPE, "q8_0");
  return [{ label: "shallow-long q8_0", weightType: "q8_0", path }];
}
