import { parseKvFlag } from "./kvFlag.js";
import { QaqServer } from "../server/QaqServer.js";
import { ConfigError } from "../util/errors.js";
import { parseByteSize } from "../cache/qaq/qaqSpec.js";
import { numberFlag, stringFlag, type FlagTable, type ParsedArgs } from "./args.js";
import { DEFAULT_THREADS_TEXT } from "./defaults.js";
import { contextFromArgs, loadEngineFromArgs } from "./generateCommand.js";
import type { CliIo } from "./io.js";
import { QUIET_FLAG } from "./progress.js";

export const SERVE_FLAGS: FlagTable = {
  model: { kind: "string", help: "model file (GGUF or llama2.c .bin)", defaultText: "bundled stories260K" },
  tokenizer: { kind: "string", help: "llama2.c tok*.bin (needed for .bin models)" },
  host: { kind: "string", help: "address to listen on (keep it local unless you mean otherwise)", defaultText: "127.0.0.1" },
  port: { kind: "int", help: "port to listen on (0 = any free port)", defaultText: "8080" },
  kv: { kind: "string", help: "KV-cache spec of every request's cache (fp32, fp16, qaq, ...; see README)", defaultText: "fp32" },
  ctx: { kind: "int", help: "positions each request's cache holds (prompt + reply), at most the model's", defaultText: "the model's context" },
  "kv-budget": { kind: "string", help: "cap on the hot KV bytes of all requests together (e.g. 64MB): qaq caches shrink to share it, others wait for room" },
  parallel: { kind: "int", help: "requests generating at once, each with its own KV cache", defaultText: "4" },
  queue: { kind: "int", help: "requests waiting beyond --parallel; more get 503", defaultText: "64" },
  "api-key": { kind: "string", help: "require Authorization: Bearer KEY on /v1/* and /metrics" },
  threads: { kind: "int", help: "threads (main + workers)", defaultText: DEFAULT_THREADS_TEXT },
  quiet: QUIET_FLAG,
};

export const SERVE_USAGE = "[--model F] [--host 127.0.0.1] [--port 8080] [--kv SPEC] [--kv-budget 256MB] [--parallel N] [--api-key KEY] [flags]";
export const SERVE_SUMMARY = "OpenAI-compatible HTTP server (chat and completions, streaming), a KV cache per request.";
export const SERVE_NOTES =
  "Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health, GET /metrics (Prometheus). " +
  "Ctrl-C or SIGTERM stops accepting, cancels the requests in flight and exits.";

/** `qaq serve`: runs until SIGINT or SIGTERM. */
export async function serveCommand(args: ParsedArgs, io: CliIo): Promise<void> {
  const kv = parseKvFlag(stringFlag(args, "kv") ?? "fp32");
  const port = numberFlag(args, "port", 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError("port", "an integer from 0 to 65535", port);
  const parallel = numberFlag(args, "parallel", 4);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 256) throw new ConfigError("parallel", "an integer from 1 to 256", parallel);
  const maxQueue = numberFlag(args, "queue", 64);
  if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new ConfigError("queue", "an integer >= 0", maxQueue);
  const apiKey = stringFlag(args, "api-key");
  if (apiKey === "") throw new ConfigError("api-key", "a non-empty key", apiKey);
  const host = stringFlag(args, "host") ?? "127.0.0.1";
  const budgetText = stringFlag(args, "kv-budget");
  const kvBudgetBytes = budgetText !== undefined ? parseByteSize(budgetText, "kv-budget") : undefined;
  const engine = await loadEngineFromArgs(args);
  try {
    const capacity = contextFromArgs(args, engine);
    const server = await QaqServer.start({
      engine, kv, capacity, parallel, maxQueue, host, port,
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(kvBudgetBytes !== undefined ? { kvBudgetBytes } : {}),
    });
    const budget = server.scheduler.kvBudget;
    const budgetNote = budget ? `, KV budget ${budget.totalBytes} bytes (a ${capacity}-position conversation needs ${budget.need(capacity)})` : "";
    io.err(`qaq serve: ${server.modelId} on ${server.url} (KV cache ${stringFlag(args, "kv") ?? "fp32"}, ${parallel} parallel, context ${capacity}${budgetNote}); Ctrl-C stops\n`);
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        io.err(`qaq serve: ${signal}: cancelling ${server.scheduler.activeJobs.length + server.scheduler.queueLength} requests, closing\n`);
        void server.close().then(resolve);
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
  } finally {
    engine.dispose();
  }
}
