/**
 * `npm run bench:browser`: decode speed in a Chromium tab (the demo's engine worker, cross-origin isolated so 2
 * threads can run) against Node on the same machine, model, prompt, spec and thread count, with the wasm heap each
 * uses. Runs alternate Node and tab, round after round, and the median of the rounds is reported, so load from other
 * processes falls on both sides alike; compare the ratios within one run, never absolute figures across runs.
 * JSON lines on stdout. Needs a built tree (dist/browser) and Chromium (QAQ_CHROMIUM or /usr/bin/chromium).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { Engine } from "../../engine/Engine.js";
import { Session } from "../../engine/Session.js";
import { generateOn, type GenerationStats } from "../../generate/generate.js";
import { Sampler } from "../../generate/sampler.js";
import { parseKvSpec } from "../../cache/spec.js";
import { DEFAULT_MODEL, DEFAULT_TOKENIZER } from "../../cli/defaults.js";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const BROWSER_DIR = join(ROOT, "dist", "browser");
const PROMPT = "Once upon a time";
const TOKENS = 200;
const ROUNDS = Number(process.env["QAQ_BENCH_ROUNDS"] ?? 5);
const SPECS = ["fp32", "qaq"];

interface ModelCase {
  readonly name: string;
  readonly model: string;
  readonly tokenizer: string;
}

const MODELS: ModelCase[] = [
  { name: "stories260K", model: DEFAULT_MODEL, tokenizer: DEFAULT_TOKENIZER },
  { name: "student64", model: join(ROOT, "..", "shared", "models", "student64", "student64.bin"), tokenizer: DEFAULT_TOKENIZER },
].filter((m) => existsSync(m.model));

interface Run {
  readonly tokensPerSecond: number;
  readonly ids: number[];
  readonly heapAllocated: number;
  readonly heapReserved: number;
}

async function nodeRun(engine: Engine, spec: string): Promise<Run> {
  const session = Session.open(engine, parseKvSpec(spec));
  const stats: { value?: GenerationStats } = {};
  const ids: number[] = [];
  // a signal, as the worker passes one: both sides yield to their event loop between two tokens
  const signal = new AbortController().signal;
  for await (const token of generateOn(session, engine.tokenizer.encode(PROMPT), TOKENS, new Sampler({ kind: "greedy" }), stats, { signal })) {
    if (token.id >= 0) ids.push(token.id);
  }
  const heap = { heapAllocated: engine.compute.heap.allocatedBytes, heapReserved: engine.compute.heap.memoryBytes };
  session.dispose();
  const s = stats.value!;
  return { tokensPerSecond: s.generatedTokens / s.decodeSeconds, ids, ...heap };
}

/** Serves dist/browser plus the benchmark's model files (by a fixed table), with COOP/COEP. */
async function startServer(models: readonly ModelCase[]): Promise<{ url: string; close: () => void }> {
  const extra = new Map(models.flatMap((m) => [[`/bench/${m.name}/model.bin`, m.model], [`/bench/${m.name}/tok.bin`, m.tokenizer]]));
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const inside = /^\/[\w./-]*$/.test(path) && !path.includes("..");
    const file = extra.get(path) ?? (inside ? join(BROWSER_DIR, path === "/" ? "index.html" : path.slice(1)) : undefined);
    if (file === undefined) return void res.writeHead(404).end();
    readFile(file).then(
      (body) => {
        const type = file.endsWith(".html") ? "text/html" : file.endsWith(".js") ? "text/javascript" : file.endsWith(".wasm") ? "application/wasm" : "application/octet-stream";
        res.writeHead(200, { "Content-Type": type, "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" }).end(body);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, close: () => server.close() };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  if (!existsSync(join(BROWSER_DIR, "qaq-engine-worker.js"))) throw new Error(`${BROWSER_DIR} is missing: run npm run build`);
  const server = await startServer(MODELS);
  const browser = await chromium.launch({
    executablePath: process.env["QAQ_CHROMIUM"] || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  try {
    for (const model of MODELS) {
      for (const threads of [1, 2]) {
        const engine = await Engine.load(model.model, model.tokenizer, threads);
        const page = await browser.newPage();
        await page.goto(`${server.url}/?threads=${threads}`);
        const info = await page.evaluate(
          async ([m, t, n]) => {
            const demo = (globalThis as unknown as { qaqDemo: { ready: Promise<unknown>; client: { load(o: object): Promise<unknown> } } }).qaqDemo;
            await demo.ready;
            return demo.client.load({ model: m, tokenizer: t, threads: n });
          },
          [`/bench/${model.name}/model.bin`, `/bench/${model.name}/tok.bin`, threads] as const,
        );
        for (const spec of SPECS) {
          const node: Run[] = [];
          const tab: Run[] = [];
          for (let round = 0; round < ROUNDS; round++) {
            node.push(await nodeRun(engine, spec));
            tab.push(
              await page.evaluate(
                async ([prompt, kv, maxTokens]) => {
                  const demo = (globalThis as unknown as { qaqDemo: { client: { generate(o: object): Promise<{ ids: number[]; stats: GenerationStats; cache: { heap: { allocatedBytes: number; memoryBytes: number } } }> } } }).qaqDemo;
                  const r = await demo.client.generate({ prompt, kv, maxTokens });
                  return { tokensPerSecond: r.stats.generatedTokens / r.stats.decodeSeconds, ids: r.ids, heapAllocated: r.cache.heap.allocatedBytes, heapReserved: r.cache.heap.memoryBytes };
                },
                [PROMPT, spec, TOKENS] as const,
              ),
            );
          }
          const nodeTps = median(node.map((r) => r.tokensPerSecond));
          const tabTps = median(tab.map((r) => r.tokensPerSecond));
          const line = {
            bench: "browser",
            model: model.name,
            spec,
            threads,
            tokens: TOKENS,
            rounds: ROUNDS,
            nodeTokensPerSecond: Number(nodeTps.toFixed(1)),
            tabTokensPerSecond: Number(tabTps.toFixed(1)),
            tabOverNode: Number((tabTps / nodeTps).toFixed(3)),
            sameIds: tab.every((r) => JSON.stringify(r.ids) === JSON.stringify(node[0]!.ids)),
            // the heap at the end of a generation (weights + scratch + this cache), and what the memory reserved
            nodeHeapAllocatedBytes: node[0]!.heapAllocated,
            tabHeapAllocatedBytes: tab[0]!.heapAllocated,
            tabHeapReservedBytes: tab[0]!.heapReserved,
            tabThreads: (info as { threads: number }).threads,
          };
          process.stdout.write(JSON.stringify(line) + "\n");
        }
        await page.close();
        engine.dispose();
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
}

await main();
