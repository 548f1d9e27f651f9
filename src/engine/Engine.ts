import { Compute } from "../kernels/Compute.js";
import type { Region } from "../kernels/WasmHeap.js";
import { parseModelFile, type ModelFile } from "../format/modelFile.js";
import { tokenizerFromGgufVocabulary, tokenizerFromLlama2cBytes, checkTokenizerMatchesModel } from "../tokenizer/loadTokenizer.js";
import type { Tokenizer } from "../tokenizer/Tokenizer.js";
import { loadWeights, freeWeights, type Weights } from "../model/weights.js";
import { createForwardState, freeForwardState, type ForwardState } from "../model/state.js";
import { LlamaModel } from "../model/llama.js";
import type { ModelConfig } from "../model/config.js";
import type { ReportingCache } from "../cache/CacheReportView.js";
import { createCache } from "../cache/createCache.js";
import type { KVCacheConfig } from "../cache/spec.js";
import { ConfigError, FileFormatError } from "../util/errors.js";
import { metadataString } from "../format/gguf/ggufMetadata.js";
import { platform } from "#platform";
import type { ByteSource } from "../platform/Platform.js";

export interface EngineOptions {
  /** positions the engine runs (default: the model's trained context) */
  readonly contextLength?: number;
  /** follows the model file read, the bulk of loading (`Engine.load` only) */
  readonly onProgress?: (bytesRead: number, total: number) => void;
  /** stops loading between two chunks of the model file (`Engine.load` only) */
  readonly signal?: AbortSignal;
}

/** A file named by a path (Node) or URL (browser), or any ByteSource (a browser File, bytes in memory). */
export type FileRef = string | ByteSource;

function sourceOf(file: FileRef): ByteSource {
  return typeof file === "string" ? platform.fileSource(file) : file;
}

/** 1M positions: far beyond any model here; the wasm heap limit stops real runs well before. */
const MAX_CONTEXT = 1 << 20;

function checkContextLength(contextLength: number | undefined): void {
  if (contextLength !== undefined && !(Number.isInteger(contextLength) && contextLength >= 1 && contextLength <= MAX_CONTEXT)) {
    throw new ConfigError("contextLength", `an integer 1..${MAX_CONTEXT}`, contextLength);
  }
}

/**
 * A loaded model ready to run: compute context (wasm heap + threads), weights, scratch, tokenizer. Create caches
 * with `createCache` and run tokens through a `Session` (engine/Session.ts); `dispose` frees the threads.
 */
export class Engine {
  private constructor(
    readonly modelPath: string,
    readonly config: ModelConfig,
    readonly tokenizer: Tokenizer,
    readonly compute: Compute,
    readonly model: LlamaModel,
    private readonly weights: Weights,
    private readonly state: ForwardState,
    /** the model's Jinja chat template (GGUF tokenizer.chat_template), if the file has one */
    readonly chatTemplate: string | undefined,
  ) {}

  /**
   * Loads a GGUF or llama2.c model. `tokenizerPath` is required for llama2.c checkpoints (a tok*.bin) and optional for
   * GGUF (which carries its vocabulary). `options.contextLength` sets the positions the engine can run (its RoPE
   * table, score scratch and default cache capacity) in place of the trained context: longer runs positions the model
   * never saw in training (RoPE extrapolates; quality past the trained context is not claimed), which is how cache
   * memory is measured on streams longer than a small model's context. `options.onProgress` follows the file read
   * (the bulk of loading). Files are paths under Node and URLs in a browser (platform/), or ByteSources.
   */
  static async load(model: FileRef, tokenizer: FileRef | undefined, threads: number, options: EngineOptions = {}): Promise<Engine> {
    checkContextLength(options.contextLength);
    const source = sourceOf(model);
    const compute = await Compute.create(threads);
    try {
      // the file is read straight into the wasm heap: its tensors are the weights, with no second copy
      let fileRegion: Region | undefined;
      const image = await source.read((byteLength) => {
        fileRegion = compute.heap.alloc(byteLength, `model file ${source.name}`);
        return compute.heap.u8(fileRegion);
      }, options.onProgress, options.signal);
      const file = parseModelFile(image, source.name);
      const tokenizerFile = tokenizer === undefined ? undefined : await readTokenizerFile(sourceOf(tokenizer), options.signal);
      return Engine.assemble(source.name, compute, file, fileRegion!, tokenizerFile, options.contextLength);
    } catch (error) {
      compute.dispose();
      throw error;
    }
  }

  /** The same from a model file's bytes already in memory (copied into the heap once); `name` names it in errors. */
  static async fromBytes(
    bytes: Uint8Array,
    name: string,
    tokenizerPath: string | undefined,
    threads: number,
    options: EngineOptions = {},
  ): Promise<Engine> {
    checkContextLength(options.contextLength);
    const compute = await Compute.create(threads);
    try {
      const fileRegion = compute.heap.alloc(bytes.byteLength, `model file ${name}`);
      const image = compute.heap.u8(fileRegion);
      image.set(bytes);
      const tokenizerFile = tokenizerPath === undefined ? undefined : await readTokenizerFile(sourceOf(tokenizerPath), options.signal);
      return Engine.assemble(name, compute, parseModelFile(image, name), fileRegion, tokenizerFile, options.contextLength);
    } catch (error) {
      compute.dispose();
      throw error;
    }
  }

  private static assemble(
    modelPath: string,
    compute: Compute,
    file: ModelFile,
    fileRegion: Region,
    tokenizerFile: TokenizerFile | undefined,
    contextLength: number | undefined,
  ): Engine {
    const tokenizer = loadTokenizerFor(file, tokenizerFile);
    const weights = loadWeights(compute, file, fileRegion);
    const config = contextLength === undefined ? file.config : { ...file.config, seqLen: contextLength };
    const state = createForwardState(compute, config);
    const model = new LlamaModel(config, compute, weights, state);
    const chatTemplate = metadataString(file.metadata, "tokenizer.chat_template", file.path);
    return new Engine(modelPath, config, tokenizer, compute, model, weights, state, chatTemplate);
  }

  createCache(config: KVCacheConfig, maxTokens = this.config.seqLen): ReportingCache {
    const { nLayers, nKvHeads, nHeads, headDim } = this.config;
    return createCache(this.compute, { nLayers, nKvHeads, headDim, maxTokens, queryHeadsPerKvHead: nHeads / nKvHeads }, config);
  }

  /** Bytes the model holds in the heap: the file image (its tensors are the weights) and the widened norms. */
  get weightBytes(): number {
    return this.weights.regions.reduce((sum, r) => sum + r.byteLength, 0);
  }

  get weightsForAccounting(): Weights {
    return this.weights;
  }

  dispose(): void {
    freeForwardState(this.compute, this.state);
    freeWeights(this.compute, this.weights);
    this.compute.dispose();
  }
}

/** A llama2.c tokenizer file's bytes and name. */
interface TokenizerFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

async function readTokenizerFile(source: ByteSource, signal: AbortSignal | undefined): Promise<TokenizerFile> {
  try {
    return { name: source.name, bytes: await source.read((byteLength) => new Uint8Array(byteLength), undefined, signal) };
  } catch (error) {
    if (!(error instanceof FileFormatError)) throw error;
    // the same words as tokenizerFromLlama2cFile's, whatever the platform's reader said
    throw new FileFormatError(source.name, `cannot read the tokenizer file (${error.problem})`);
  }
}

function loadTokenizerFor(file: ModelFile, tokenizerFile: TokenizerFile | undefined): Tokenizer {
  let tokenizer: Tokenizer;
  if (tokenizerFile !== undefined) tokenizer = tokenizerFromLlama2cBytes(tokenizerFile.bytes, tokenizerFile.name);
  else if (file.vocabulary) tokenizer = tokenizerFromGgufVocabulary(file.vocabulary, file.path);
  else throw new FileFormatError(file.path, "a llama2.c checkpoint has no vocabulary: pass --tokenizer tok*.bin");
  checkTokenizerMatchesModel(tokenizer, file.config.vocabSize, tokenizerFile?.name ?? file.path);
  return tokenizer;
}
