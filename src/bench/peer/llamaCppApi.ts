import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { UnsupportedError } from "../../util/errors.js";

/**
 * The part of node-llama-cpp's API the peer runner calls, declared here because the package is never a dependency
 * of this project: it is installed on demand outside it (peerInstall.ts) and imported by path at run time.
 * Names and option meanings are node-llama-cpp 3.x's (getLlama, LlamaModel.createContext,
 * LlamaContextSequence.controlledEvaluate; the KV cache types are its experimentalKvCache{Key,Value}Type options).
 */
export type LlamaLogger = (level: string, message: string) => void;

export interface LlamaCppModule {
  getLlama(options: {
    readonly gpu: false;
    readonly build: "never";
    readonly usePrebuiltBinaries: true;
    readonly skipDownload: true;
    readonly progressLogs: false;
    readonly logLevel: "info";
    readonly logger: LlamaLogger;
    readonly maxThreads: number;
  }): Promise<Llama>;
}

export interface Llama {
  loadModel(options: { readonly modelPath: string; readonly gpuLayers: 0; readonly useMmap: true }): Promise<LlamaModel>;
  dispose(): Promise<void>;
}

/** GgmlType names as node-llama-cpp spells them. */
export type LlamaCacheTypeName = "F32" | "F16" | "Q8_0" | "Q4_0";

/** The GGUF metadata keys the runner reads, as node-llama-cpp's parser nests them (`llama.block_count`, ...). */
export interface GgufMetadataView {
  readonly llama?: {
    readonly block_count: number;
    readonly embedding_length: number;
    readonly attention?: { readonly head_count?: number; readonly head_count_kv?: number };
  };
  readonly tokenizer?: { readonly ggml?: { readonly tokens?: readonly string[] } };
}

export interface LlamaModel {
  readonly fileInfo: { readonly metadata: GgufMetadataView };
  /** llama.cpp's own tokenization (no BOS added; `specialTokens`: parse special-token text as those tokens). */
  tokenize(text: string, specialTokens?: boolean): readonly number[];
  createContext(options: {
    readonly contextSize: number;
    readonly threads: { readonly ideal: number; readonly min: number };
    readonly flashAttention: boolean;
    readonly experimentalKvCacheKeyType: LlamaCacheTypeName;
    readonly experimentalKvCacheValueType: LlamaCacheTypeName;
    readonly performanceTracking: true;
    readonly failedCreationRemedy: false;
    readonly ignoreMemorySafetyChecks: true;
  }): Promise<LlamaContext>;
  dispose(): Promise<void>;
}

export interface LlamaContext {
  readonly contextSize: number;
  readonly currentThreads: number;
  getSequence(): LlamaContextSequence;
  /** Logs llama.cpp's cumulative perf counters (llama_perf_context_print) through the logger. */
  printTimings(): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * A token, or a token after which the next token is to be generated (greedy at temperature 0) and/or its raw
 * logits returned (every vocabulary entry, by token id).
 */
export type ControlledInput =
  | number
  | [number, { readonly generateNext: { readonly token?: true; readonly logits?: true; readonly options?: { readonly temperature: 0 } } }];

export interface ControlledOutput {
  readonly next?: { readonly token?: number | null; readonly logits?: ReadonlyMap<number, number> };
}

export interface LlamaContextSequence {
  clearHistory(): Promise<void>;
  controlledEvaluate(input: readonly ControlledInput[]): Promise<ReadonlyArray<ControlledOutput | undefined>>;
}

export interface LoadedPeer {
  readonly module: LlamaCppModule;
  readonly version: string;
}

/** Imports node-llama-cpp from `<peerDir>/node_modules` (its ES module entry, as its package.json exports it). */
export async function importLlamaCpp(peerDir: string): Promise<LoadedPeer> {
  const packageDir = join(peerDir, "node_modules", "node-llama-cpp");
  const manifestPath = join(packageDir, "package.json");
  if (!existsSync(manifestPath)) throw new UnsupportedError(`node-llama-cpp is not installed in ${peerDir} (no ${manifestPath})`);
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    version?: string;
    main?: string;
    exports?: { ".": { import?: string } };
  };
  const entry = manifest.exports?.["."]?.import ?? manifest.main;
  if (entry === undefined) throw new UnsupportedError(`${manifestPath} names no ES module entry`);
  const module = (await import(pathToFileURL(join(packageDir, entry)).href)) as LlamaCppModule;
  if (typeof module.getLlama !== "function") throw new UnsupportedError(`${join(packageDir, entry)} exports no getLlama`);
  return { module, version: manifest.version ?? "unknown" };
}
