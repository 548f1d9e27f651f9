/**
 * What the side-by-side benchmark asks of one child process, and what the child answers. A job is one engine
 * configuration (engine, GGUF file, cache type, thread count) run through the shared sweep protocol (sweep.ts);
 * it runs alone in its own process so that its peak RSS is its own.
 */

/** llama.cpp KV cache types the peer runs (the names node-llama-cpp's GgmlType uses, lower-cased). */
export type PeerKvType = "f32" | "f16" | "q8_0" | "q4_0";
export const PEER_KV_TYPES: readonly PeerKvType[] = ["f32", "f16", "q8_0", "q4_0"];

/** The measuring protocol, identical for both engines. */
export interface SweepShape {
  /** prompt length of the timed prefill (from an empty context, `repeats` times) */
  readonly prefillTokens: number;
  /** context lengths L at which decode is timed, ascending; the context grows from one to the next */
  readonly contexts: readonly number[];
  /** decode steps per timed block */
  readonly decodeSteps: number;
  /** timed repetitions of every measurement (the median is reported) */
  readonly repeats: number;
}

export interface BenchModel {
  /** short name for tables, e.g. "TinyLlama-shape" */
  readonly label: string;
  /** weight type as stored in the file, for tables ("q8_0", "f32") */
  readonly weightType: string;
  readonly path: string;
}

export type BenchJob =
  | {
      readonly engine: "qaq";
      readonly model: BenchModel;
      /** our --kv spec, e.g. "blockq:q4_0" */
      readonly cache: string;
      readonly threads: number;
      readonly sweep: SweepShape;
    }
  | {
      readonly engine: "llama.cpp";
      readonly model: BenchModel;
      readonly cache: PeerKvType;
      readonly threads: number;
      readonly sweep: SweepShape;
      /** folder holding node_modules/node-llama-cpp (peerInstall.ts) */
      readonly peerDir: string;
    };

export type EngineName = BenchJob["engine"];

/** Decode at one context length. */
export interface ContextPoint {
  /** tokens in the context when the first timed decode block starts */
  readonly contextTokens: number;
  /** median over the timed blocks */
  readonly decodeTokensPerSecond: number;
  readonly decodeSamples: readonly number[];
  /** llama.cpp only: its own eval timer over the same blocks (no JS wrapper), median; null for our engine */
  readonly internalDecodeTokensPerSecond: number | null;
  /** wall time to grow the context from the previous point to this one (untimed prefill, for the record) */
  readonly growSeconds: number;
  /** bytes of the cache holding the context at the end of the timed blocks */
  readonly kvBytes: number;
}

/** Where the KV bytes came from and anything else about them worth knowing. */
export interface KvAccounting {
  /** e.g. "cacheReport hotBytes" or "llama.cpp log: 2.39 MiB for 4352 cells; per-cell bytes from the type" */
  readonly source: string;
  /** bytes the engine reserved for the whole context up front, where it does so (llama.cpp), else null */
  readonly allocatedBytes: number | null;
  /** full-precision copy kept outside the hot cache (QAQ's backing tier), 0 if none */
  readonly backingBytes: number;
}

export interface JobMeasurement {
  readonly prefillTokensPerSecond: number;
  readonly prefillSamples: readonly number[];
  /** greedy next token after the timed prefill prompt: both engines should agree on f32 weights */
  readonly nextTokenAfterPrefill: number;
  readonly points: readonly ContextPoint[];
  readonly kv: KvAccounting;
  /** threads the engine reports it used */
  readonly threadsUsed: number;
  /** engine version string, e.g. "node-llama-cpp 3.22.1" */
  readonly engineVersion: string;
}

export type JobOutcome =
  | { readonly ok: true; readonly measurement: JobMeasurement; readonly peakRssBytes: number; readonly endRssBytes: number }
  | { readonly ok: false; readonly error: string; readonly peakRssBytes: number };

/** One finished job as the parent records it. */
export interface JobRecord {
  readonly job: BenchJob;
  readonly outcome: JobOutcome;
  readonly wallSeconds: number;
  /** the machine's 1-minute load average when the job started (it is shared: a high value means noisy figures) */
  readonly loadAverage: number;
}
