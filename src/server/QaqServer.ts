/**
 * The OpenAI-compatible server (`qaq serve`) on node:http: routes, authentication, the two generation endpoints
 * (streamed as server-sent events or answered whole), /v1/models, /health and /metrics. Each generation request
 * becomes a GenerationJob on the Scheduler, with a KV cache of its own; a client that disconnects cancels its job
 * and the cache is freed at once. `close` stops accepting, cancels what is in flight and waits for the jobs to end.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { basename } from "node:path";
import { ChatTemplate } from "../chat/chatTemplate.js";
import { chatTokensOf, type ChatTokens } from "../chat/chatTokens.js";
import type { KVCacheConfig } from "../cache/spec.js";
import type { Engine } from "../engine/Engine.js";
import { QaqError } from "../util/errors.js";
import { ApiError, errors } from "./apiErrors.js";
import { isDemoPath, serveDemo } from "./demoAssets.js";
import { GenerationJob, type JobResult } from "./GenerationJob.js";
import { ApiKeyCheck, readJson, sendError, sendJson, sendText } from "./httpIo.js";
import { ServerMetrics } from "./metrics.js";
import * as shapes from "./openaiShapes.js";
import { parseChatRequest, parseCompletionRequest, type ApiRequest } from "./requests.js";
import { Scheduler } from "./Scheduler.js";
import { KvBudget } from "./KvBudget.js";

export interface ServerOptions {
  readonly engine: Engine;
  readonly kv: KVCacheConfig;
  /** positions each request's session may hold (default the model's context) */
  readonly capacity?: number;
  /** requests generating at once (default 4) */
  readonly parallel?: number;
  /** requests waiting beyond those (default 64); more are refused with 429 */
  readonly maxQueue?: number;
  readonly apiKey?: string;
  /** default 127.0.0.1 */
  readonly host?: string;
  /** default 8080; 0 picks a free port */
  readonly port?: number;
  /** request bodies larger than this are refused with 413 (default 1 MiB) */
  readonly maxBodyBytes?: number;
  /** the model id in /v1/models and responses (default the model file's name) */
  readonly modelId?: string;
  /** one cap on the hot KV bytes of all sessions together (KvBudget.ts); none by default */
  readonly kvBudgetBytes?: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export class QaqServer {
  readonly scheduler: Scheduler;
  readonly metrics = new ServerMetrics();
  readonly modelId: string;
  private readonly http: Server;
  private readonly apiKey: ApiKeyCheck | undefined;
  private readonly maxBodyBytes: number;
  private readonly template: ChatTemplate;
  private readonly chatTokens: ChatTokens;
  private readonly routes: Readonly<Record<string, { method: string; auth: boolean; handler: Handler }>>;
  private readonly inFlight = new Set<{ job: GenerationJob; res: ServerResponse }>();
  private readonly startedAt = Math.floor(Date.now() / 1000);
  private closing = false;

  private constructor(private readonly options: ServerOptions) {
    const { engine } = options;
    const parallel = options.parallel ?? 4;
    const capacity = options.capacity ?? engine.config.seqLen;
    const kvBudget = options.kvBudgetBytes !== undefined ? KvBudget.create(engine, options.kv, capacity, options.kvBudgetBytes) : undefined;
    this.scheduler = new Scheduler(engine, options.kv, {
      capacity,
      parallel,
      maxQueue: options.maxQueue ?? 64,
      onTokens: (n) => this.metrics.countTokens(n),
      ...(kvBudget ? { kvBudget } : {}),
    });
    this.modelId = options.modelId ?? basename(engine.modelPath);
    this.apiKey = options.apiKey !== undefined ? new ApiKeyCheck(options.apiKey) : undefined;
    this.maxBodyBytes = options.maxBodyBytes ?? 1 << 20;
    this.template = engine.chatTemplate !== undefined ? new ChatTemplate(engine.chatTemplate, engine.modelPath) : ChatTemplate.plain();
    this.chatTokens = chatTokensOf(engine.tokenizer);
    this.routes = {
      "/v1/chat/completions": { method: "POST", auth: true, handler: (req, res) => this.generate(req, res, parseChatRequest) },
      "/v1/completions": { method: "POST", auth: true, handler: (req, res) => this.generate(req, res, parseCompletionRequest) },
      "/v1/models": { method: "GET", auth: true, handler: (_req, res) => sendJson(res, 200, shapes.modelList(this.modelId, this.startedAt)) },
      "/health": { method: "GET", auth: false, handler: (_req, res) => sendJson(res, 200, { status: "ok" }) },
      "/metrics": { method: "GET", auth: true, handler: (_req, res) => sendText(res, 200, "text/plain; version=0.0.4; charset=utf-8", this.metrics.render(this.scheduler, engine.config)) },
    };
    this.http = createServer((req, res) => void this.handle(req, res));
  }

  /** Starts listening; resolves once the port is bound. */
  static async start(options: ServerOptions): Promise<QaqServer> {
    const server = new QaqServer(options);
    await new Promise<void>((resolve, reject) => {
      server.http.once("error", reject);
      server.http.listen(options.port ?? 8080, options.host ?? "127.0.0.1", () => {
        server.http.off("error", reject);
        resolve();
      });
    });
    return server;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  get url(): string {
    const { address, family } = this.http.address() as AddressInfo;
    return `http://${family === "IPv6" ? `[${address}]` : address}:${this.port}`;
  }

  /** Stops accepting, cancels every request in flight (their clients get an error), frees the caches, closes. */
  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    for (const entry of [...this.inFlight]) {
      this.scheduler.cancel(entry.job);
      this.abandon(entry, errors.shuttingDown());
    }
    this.scheduler.cancelAll();
    this.http.closeIdleConnections();
    await this.scheduler.idle();
    this.http.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.once("finish", () => this.metrics.countRequest(res.statusCode));
    try {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      // the in-browser demo's static files (demoAssets.ts), apart from the API routes
      if (isDemoPath(path)) return await serveDemo(req, res, path);
      const route = this.routes[path];
      if (!route) throw errors.notFound(path);
      if (req.method !== route.method) {
        sendError(res, errors.methodNotAllowed(req.method ?? "?", path, route.method), { Allow: route.method });
        return;
      }
      if (route.auth && this.apiKey && !this.apiKey.accepts(req)) throw errors.unauthorized();
      if (this.closing) throw errors.shuttingDown();
      await route.handler(req, res);
    } catch (error) {
      sendError(res, asApiError(error));
    }
  }

  private async generate(req: IncomingMessage, res: ServerResponse, parse: (body: unknown) => ApiRequest): Promise<void> {
    const request = parse(await readJson(req, this.maxBodyBytes));
    if (this.closing) throw errors.shuttingDown();
    const { params } = request;
    if (params.model !== this.modelId) throw errors.unknownModel(params.model, this.modelId);
    const { promptIds, stopIds } = this.encode(request);
    if (promptIds.length > this.scheduler.capacity) throw errors.contextExceeded(promptIds.length, this.scheduler.capacity);
    const head = shapes.responseHead(request.kind, this.modelId);
    const chat = request.kind === "chat";
    let text = "";
    let started = false;
    // with include_usage, every chunk but the usage one carries "usage": null (OpenAI's stream_options contract)
    const write = (payload: object | "[DONE]"): void =>
      void res.write(shapes.sseEvent(params.includeUsage && payload !== "[DONE]" && !("usage" in payload) ? { ...payload, usage: null } : payload));
    const startStream = (): void => {
      if (started) return;
      started = true;
      res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", Connection: "keep-alive", "X-Accel-Buffering": "no" });
      if (chat) write(shapes.chatChunk(head, { role: "assistant", content: "" }, null));
    };
    const entry = {
      res,
      job: new GenerationJob(
        { promptIds, maxTokens: params.maxTokens, sampler: params.sampler, stop: params.stop, stopIds },
        {
          text: (delta) => {
            if (!params.stream) text += delta;
            else {
              startStream();
              write(chat ? shapes.chatChunk(head, { content: delta }, null) : shapes.textChunk(head, delta, null));
            }
          },
          finish: (result: JobResult) => {
            this.inFlight.delete(entry);
            this.metrics.promptTokens += result.promptTokens;
            if (!params.stream) {
              sendJson(res, 200, chat ? shapes.chatCompletion(head, text, result) : shapes.textCompletion(head, text, result));
              return;
            }
            startStream();
            write(chat ? shapes.chatChunk(head, {}, result.finishReason) : shapes.textChunk(head, "", result.finishReason));
            if (params.includeUsage) write(shapes.usageChunk(head, request.kind, result));
            write("[DONE]");
            res.end();
          },
          fail: (error) => {
            this.inFlight.delete(entry);
            this.abandon(entry, asApiError(error));
          },
        },
      ),
    };
    this.scheduler.submit(entry.job);
    this.inFlight.add(entry);
    if (params.stream) startStream();
    // a client that goes away (closed socket, aborted fetch) cancels its job: the cache is freed at once
    res.once("close", () => {
      if (!this.inFlight.delete(entry)) return;
      this.scheduler.cancel(entry.job);
    });
  }

  /** Ends a response whose job will not finish: an error body, or an error event on a stream already started. */
  private abandon(entry: { res: ServerResponse }, error: ApiError): void {
    this.inFlight.delete(entry as { job: GenerationJob; res: ServerResponse });
    const { res } = entry;
    if (res.writableEnded) return;
    if (!res.headersSent) sendError(res, error);
    else {
      res.write(shapes.sseEvent(error.body()));
      res.end();
    }
  }

  private encode(request: ApiRequest): { promptIds: Int32Array; stopIds: readonly number[] } {
    if (request.kind === "completion") return { promptIds: this.options.engine.tokenizer.encode(request.prompt), stopIds: [] };
    const rendered = this.template.render(request.messages, { addGenerationPrompt: true, bosToken: this.chatTokens.bosText, eosToken: this.chatTokens.eosText });
    return { promptIds: this.chatTokens.encode(rendered), stopIds: this.chatTokens.stopIds };
  }
}

/** Our typed errors become 400s naming the problem (a template's refusal, a context overflow); others are 500s. */
function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof QaqError) return new ApiError(400, "invalid_request_error", error.code, error.message);
  return errors.internal(error instanceof Error ? error.message : String(error));
}
