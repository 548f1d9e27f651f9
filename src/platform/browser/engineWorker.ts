/**
 * The engine's Web Worker (bundled as dist/browser/qaq-engine-worker.js): one Engine, driven by the messages of
 * engineProtocol.ts. Requests run one at a time in arrival order; a cancel reaches the running one between two
 * chunks of a model download or two generated tokens (generateOn yields to the event loop when given a signal).
 */
import { cacheReport } from "../../cache/cacheReport.js";
import { parseKvSpec } from "../../cache/spec.js";
import type { Engine } from "../../engine/Engine.js";
import { Session } from "../../engine/Session.js";
import { generateOn, type GenerationStats } from "../../generate/generate.js";
import { Sampler, validateSampler, type SamplerConfig } from "../../generate/sampler.js";
import { ConfigError, ContextOverflowError, QaqError, UsageError } from "../../util/errors.js";
import { isCrossOriginIsolated } from "./browserPlatform.js";
import type { CacheSnapshot, EngineEvent, EngineRequest, GenerateRequest, HeapUse, LoadRequest, ModelInfo } from "./engineProtocol.js";
import { loadEngine } from "./loadEngine.js";

const scope = globalThis as unknown as { onmessage: ((event: MessageEvent<EngineRequest>) => void) | null; postMessage(message: EngineEvent): void };
const post = (event: EngineEvent): void => scope.postMessage(event);

let engine: Engine | undefined;
/** the running or queued requests that a cancel can stop */
const controllers = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();

scope.onmessage = (event) => {
  const request = event.data;
  if (request.type === "cancel") {
    controllers.get(request.id)?.abort("cancel");
    return;
  }
  const controller = new AbortController();
  controllers.set(request.id, controller);
  queue = queue.then(async () => {
    try {
      if (request.type === "load") await load(request, controller.signal);
      else if (request.type === "tokenize") post({ type: "tokens", id: request.id, ids: [...loaded().tokenizer.encode(request.text)] });
      else await generate(request, controller.signal);
    } catch (error) {
      post({ type: "error", id: request.id, error: errorShape(error) });
    } finally {
      controllers.delete(request.id);
    }
  });
};

function loaded(): Engine {
  if (engine === undefined) throw new UsageError("no model is loaded: send a load request first");
  return engine;
}

function heapUse(e: Engine): HeapUse {
  return { allocatedBytes: e.compute.heap.allocatedBytes, memoryBytes: e.compute.heap.memoryBytes };
}

async function load(request: LoadRequest, signal: AbortSignal): Promise<void> {
  engine?.dispose();
  engine = undefined;
  let last = 0;
  engine = await loadEngine({
    model: request.model,
    tokenizer: request.tokenizer,
    threads: request.threads ?? "auto",
    contextLength: request.contextLength,
    signal,
    onProgress: (bytesRead, total) => {
      // at most every 50 ms, and the last chunk
      const now = performance.now();
      if (now - last < 50 && bytesRead !== total) return;
      last = now;
      post({ type: "progress", id: request.id, bytesRead, total });
    },
  });
  const c = engine.config;
  const info: ModelInfo = {
    name: engine.modelPath,
    dim: c.dim,
    nLayers: c.nLayers,
    nHeads: c.nHeads,
    nKvHeads: c.nKvHeads,
    headDim: c.headDim,
    vocabSize: c.vocabSize,
    contextLength: c.seqLen,
    threads: engine.compute.threads,
    crossOriginIsolated: isCrossOriginIsolated(),
    heap: heapUse(engine),
  };
  post({ type: "loaded", id: request.id, info });
}

function samplerOf(request: GenerateRequest): SamplerConfig {
  const temperature = request.temperature ?? 0;
  if (temperature === 0) return { kind: "greedy" };
  return validateSampler({ kind: "sample", temperature, topK: request.topK ?? 0, topP: request.topP ?? 0.9, seed: request.seed ?? 42 });
}

async function generate(request: GenerateRequest, signal: AbortSignal): Promise<void> {
  const e = loaded();
  // everything checked before any work: spec, sampler, token limit, prompt length
  const kv = parseKvSpec(request.kv ?? "fp32");
  const sampler = samplerOf(request);
  const maxTokens = request.maxTokens ?? 256;
  if (!(Number.isInteger(maxTokens) && maxTokens >= 1) && maxTokens !== Infinity) throw new ConfigError("maxTokens", "an integer >= 1", maxTokens);
  const prompt = typeof request.prompt === "string" ? e.tokenizer.encode(request.prompt) : Int32Array.from(request.prompt);
  if (prompt.length === 0) throw new ConfigError("prompt", "at least one token", "an empty prompt");
  if (prompt.length > e.config.seqLen) throw new ContextOverflowError(prompt.length, e.config.seqLen, "prompt");
  const session = Session.open(e, kv);
  try {
    const snapshotMs = request.snapshotMs ?? 100;
    const snapshot = (): CacheSnapshot => {
      const widths = session.cache.widthMap?.();
      return { report: cacheReport(session.cache, e.config), heap: heapUse(e), ...(widths === undefined ? {} : { widths }) };
    };
    const stats: { value?: GenerationStats } = {};
    const ids: number[] = [];
    let text = "";
    let lastSnapshot = performance.now();
    for await (const token of generateOn(session, prompt, maxTokens, new Sampler(sampler), stats, { signal })) {
      if (token.id >= 0) ids.push(token.id);
      text += token.text;
      post({ type: "token", id: request.id, token: token.id, text: token.text });
      if (performance.now() - lastSnapshot >= snapshotMs) {
        post({ type: "snapshot", id: request.id, snapshot: snapshot() });
        lastSnapshot = performance.now();
      }
    }
    post({ type: "done", id: request.id, result: { ids, promptIds: [...prompt], text, stats: stats.value!, cache: snapshot() } });
  } finally {
    session.dispose();
  }
}

function errorShape(error: unknown): { name: string; code?: string; message: string } {
  if (error instanceof QaqError) return { name: error.name, code: error.code, message: error.message };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}
