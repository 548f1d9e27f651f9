/**
 * Loading an engine in a browser context (a Web Worker: the engine waits on Atomics, which a page's main thread may
 * not): a model by URL or File, streamed straight into the wasm heap with progress, on as many threads as the page's
 * isolation allows.
 */
import { Engine } from "../../engine/Engine.js";
import { ConfigError, UnsupportedError } from "../../util/errors.js";
import type { ByteSource, ReadProgress } from "../Platform.js";
import { isCrossOriginIsolated } from "./browserPlatform.js";
import { blobSource, fetchSource } from "./byteSources.js";
import type { ThreadChoice } from "./engineProtocol.js";

export interface BrowserLoadOptions {
  /** a URL or a File / Blob */
  readonly model: string | URL | Blob;
  /** a llama2.c tok*.bin for llama2.c checkpoints (GGUF files carry their vocabulary) */
  readonly tokenizer?: string | URL | Blob;
  /** default "auto" */
  readonly threads?: ThreadChoice;
  readonly contextLength?: number;
  readonly onProgress?: ReadProgress;
  readonly signal?: AbortSignal;
}

/** Most threads "auto" takes: beyond this the pool's hand-offs cost more than small models gain. */
const MAX_AUTO_THREADS = 8;

/** The thread count to run with: 1 unless the page is cross-origin isolated, then one per core (at most 8). */
export function chooseThreads(choice: ThreadChoice = "auto"): number {
  const isolated = isCrossOriginIsolated();
  if (choice === "auto") {
    const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
    return isolated ? Math.max(1, Math.min(cores, MAX_AUTO_THREADS)) : 1;
  }
  if (!Number.isInteger(choice) || choice < 1 || choice > 64) throw new ConfigError("threads", 'an integer from 1 to 64, or "auto"', choice);
  if (choice > 1 && !isolated) {
    throw new UnsupportedError(
      `threads: ${choice} needs a cross-origin isolated page (Cross-Origin-Opener-Policy: same-origin, ` +
        'Cross-Origin-Embedder-Policy: require-corp); without them use 1 or "auto"',
    );
  }
  return choice;
}

export function byteSourceOf(file: string | URL | Blob): ByteSource {
  return file instanceof Blob ? blobSource(file) : fetchSource(file);
}

export async function loadEngine(options: BrowserLoadOptions): Promise<Engine> {
  const threads = chooseThreads(options.threads);
  return Engine.load(byteSourceOf(options.model), options.tokenizer === undefined ? undefined : byteSourceOf(options.tokenizer), threads, {
    ...(options.contextLength === undefined ? {} : { contextLength: options.contextLength }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}
