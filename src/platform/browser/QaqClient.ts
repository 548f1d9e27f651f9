/**
 * The page's side of the engine worker (bundled as dist/browser/qaq-client.js; it holds no engine code): starts
 * qaq-engine-worker.js and turns the protocol's messages into promises and callbacks. Cancelling is an AbortSignal,
 * as everywhere in the library.
 */
import type {
  CacheSnapshot,
  EngineEvent,
  EngineRequest,
  ErrorShape,
  GenerateRequest,
  GenerationResult,
  ModelInfo,
  ThreadChoice,
} from "./engineProtocol.js";

export type { CacheSnapshot, GenerationResult, ModelInfo, ThreadChoice } from "./engineProtocol.js";

/** An error raised in the engine worker, with its class name and code (FileFormatError, "file-format", ...). */
export class EngineWorkerError extends Error {
  constructor(
    readonly errorName: string,
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = errorName;
  }
}

export interface ClientLoadOptions {
  /** a URL (relative to the page) or a File / Blob */
  readonly model: string | URL | Blob;
  readonly tokenizer?: string | URL | Blob;
  readonly threads?: ThreadChoice;
  readonly contextLength?: number;
  readonly onProgress?: (bytesRead: number, total: number) => void;
  readonly signal?: AbortSignal;
}

export type ClientGenerateOptions = Omit<GenerateRequest, "type" | "id"> & {
  readonly onToken?: (text: string, id: number) => void;
  readonly onSnapshot?: (snapshot: CacheSnapshot) => void;
  /** stops between two tokens; the promise then resolves with what was generated (stats.stoppedBy "aborted") */
  readonly signal?: AbortSignal;
};

type Listener = (event: EngineEvent) => void;

export class QaqClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly listeners = new Map<number, Listener>();
  private failure: Error | undefined;

  constructor(workerUrl: string | URL = new URL("./qaq-engine-worker.js", import.meta.url)) {
    this.worker = new Worker(workerUrl, { type: "module", name: "qaq-engine" });
    this.worker.addEventListener("message", (event: MessageEvent<EngineEvent>) => this.listeners.get(event.data.id)?.(event.data));
    this.worker.addEventListener("error", (event) => {
      this.failure = new Error(`the engine worker failed: ${event.message || "it could not start (is qaq-engine-worker.js served?)"}`);
      for (const listener of this.listeners.values()) listener({ type: "error", id: -1, error: { name: "Error", message: this.failure.message } });
    });
  }

  /** Loads a model (replacing any loaded one); resolves with its shape, threads and heap use. */
  load(options: ClientLoadOptions): Promise<ModelInfo> {
    const model = options.model instanceof URL ? String(options.model) : options.model;
    const tokenizer = options.tokenizer instanceof URL ? String(options.tokenizer) : options.tokenizer;
    // URLs are resolved here: the worker's own location is the bundle's folder, not the page's
    const absolute = (file: string | Blob) => (typeof file === "string" ? new URL(file, globalThis.location?.href).href : file);
    return this.request(
      (id) => ({
        type: "load",
        id,
        model: absolute(model),
        ...(tokenizer === undefined ? {} : { tokenizer: absolute(tokenizer) }),
        ...(options.threads === undefined ? {} : { threads: options.threads }),
        ...(options.contextLength === undefined ? {} : { contextLength: options.contextLength }),
      }),
      options.signal,
      (event, resolve) => {
        if (event.type === "progress") options.onProgress?.(event.bytesRead, event.total);
        else if (event.type === "loaded") resolve(event.info);
      },
    );
  }

  /** The prompt's ids as the model's tokenizer encodes it (BOS by the model's rule). */
  tokenize(text: string): Promise<number[]> {
    return this.request((id) => ({ type: "tokenize", id, text }), undefined, (event, resolve) => {
      if (event.type === "tokens") resolve(event.ids);
    });
  }

  /** Generates on a fresh cache of `kv`; text streams through onToken, cache snapshots through onSnapshot. */
  generate(options: ClientGenerateOptions): Promise<GenerationResult> {
    const { onToken, onSnapshot, signal, ...fields } = options;
    return this.request((id) => ({ ...fields, type: "generate", id }), signal, (event, resolve) => {
      if (event.type === "token") onToken?.(event.text, event.token);
      else if (event.type === "snapshot") onSnapshot?.(event.snapshot);
      else if (event.type === "done") resolve(event.result);
    });
  }

  /** Stops the worker (and its pool workers with it). */
  terminate(): void {
    this.worker.terminate();
  }

  private request<T>(
    build: (id: number) => EngineRequest,
    signal: AbortSignal | undefined,
    handle: (event: EngineEvent, resolve: (value: T) => void) => void,
  ): Promise<T> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => this.worker.postMessage({ type: "cancel", id } satisfies EngineRequest);
      const finish = () => {
        this.listeners.delete(id);
        signal?.removeEventListener("abort", onAbort);
      };
      this.listeners.set(id, (event) => {
        if (event.type === "error") {
          finish();
          reject(toError(event.error));
          return;
        }
        handle(event, (value) => {
          finish();
          resolve(value);
        });
      });
      signal?.addEventListener("abort", onAbort);
      this.worker.postMessage(build(id));
      if (signal?.aborted) onAbort();
    });
  }
}

function toError(shape: ErrorShape): EngineWorkerError {
  return new EngineWorkerError(shape.name, shape.code, shape.message);
}
