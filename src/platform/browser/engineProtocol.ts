/**
 * The messages between a page (QaqClient) and the engine's Web Worker (engineWorker.ts). Plain data only: what
 * structured clone carries (a File or Blob travels as itself, without copying its bytes).
 */
import type { CacheReport } from "../../cache/cacheReport.js";
import type { WidthMap } from "../../cache/CacheReportView.js";
import type { GenerationStats } from "../../generate/generate.js";

/** "auto": every core when the page is cross-origin isolated (at most 8), else 1. */
export type ThreadChoice = number | "auto";

export interface LoadRequest {
  readonly type: "load";
  readonly id: number;
  /** a URL (relative to the worker script) or a File / Blob */
  readonly model: string | Blob;
  /** a llama2.c tok*.bin, needed for llama2.c checkpoints: a URL or a File / Blob */
  readonly tokenizer?: string | Blob;
  readonly threads?: ThreadChoice;
  readonly contextLength?: number;
}

export interface TokenizeRequest {
  readonly type: "tokenize";
  readonly id: number;
  readonly text: string;
}

export interface GenerateRequest {
  readonly type: "generate";
  readonly id: number;
  /** text (encoded with the model's BOS rule) or token ids */
  readonly prompt: string | readonly number[];
  /** a `--kv` spec; default fp32 */
  readonly kv?: string;
  /** default 256 */
  readonly maxTokens?: number;
  /** 0 or absent: greedy */
  readonly temperature?: number;
  readonly topK?: number;
  readonly topP?: number;
  readonly seed?: number;
  /** cache snapshots (bytes and, where the cache has one, the width map) at most this often; default 100 ms */
  readonly snapshotMs?: number;
}

export interface CancelRequest {
  readonly type: "cancel";
  /** the id of the load or generate request to stop */
  readonly id: number;
}

export type EngineRequest = LoadRequest | TokenizeRequest | GenerateRequest | CancelRequest;

/** What a loaded model is, and what it costs in the wasm heap. */
export interface ModelInfo {
  readonly name: string;
  readonly dim: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly threads: number;
  readonly crossOriginIsolated: boolean;
  readonly heap: HeapUse;
}

/** The wasm heap: bytes handed out by its allocator, and bytes the memory has reserved (grows, never shrinks). */
export interface HeapUse {
  readonly allocatedBytes: number;
  readonly memoryBytes: number;
}

/** The cache as measured at one moment of a generation. */
export interface CacheSnapshot {
  readonly report: CacheReport;
  /** per layer, per group (KV head or layer), per token: key and value code widths (16 = fp16); QAQ and uniform only */
  readonly widths?: WidthMap;
  readonly heap: HeapUse;
}

export interface GenerationResult {
  /** the generated ids, in order (no prompt) */
  readonly ids: number[];
  readonly promptIds: number[];
  readonly text: string;
  readonly stats: GenerationStats;
  readonly cache: CacheSnapshot;
}

export interface ErrorShape {
  /** the error class (FileFormatError, UnsupportedError, ...) */
  readonly name: string;
  /** QaqError's stable code, when it is one */
  readonly code?: string;
  readonly message: string;
}

export type EngineEvent =
  | { readonly type: "progress"; readonly id: number; readonly bytesRead: number; readonly total: number }
  | { readonly type: "loaded"; readonly id: number; readonly info: ModelInfo }
  | { readonly type: "tokens"; readonly id: number; readonly ids: number[] }
  | { readonly type: "token"; readonly id: number; readonly token: number; readonly text: string }
  | { readonly type: "snapshot"; readonly id: number; readonly snapshot: CacheSnapshot }
  | { readonly type: "done"; readonly id: number; readonly result: GenerationResult }
  | { readonly type: "error"; readonly id: number; readonly error: ErrorShape };
