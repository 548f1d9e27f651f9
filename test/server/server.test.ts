import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import OpenAI from "openai";
import { Engine } from "../../src/engine/Engine.js";
import { generate, type GenerationStats } from "../../src/generate/generate.js";
import type { SamplerConfig } from "../../src/generate/sampler.js";
import { QaqServer, type ServerOptions } from "../../src/server/QaqServer.js";
import { ChatTemplate } from "../../src/chat/chatTemplate.js";
import { chatTokensOf } from "../../src/chat/chatTokens.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER, PROJECT_ROOT } from "../support/paths.js";

/**
 * The server driven by the official `openai` client, in-process on 127.0.0.1 with a free port, serving stories260K
 * (no chat template: the plain-text chat format). Expected texts come from the library's `generate` on the same
 * prompt ids, run here without the server.
 */
const MODEL = "stories260K.bin";
const PROMPT = "Once upon a time";
let engine: Engine;
before(async () => {
  engine = await Engine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 1);
});
after(() => engine.dispose());

async function withServer(options: Partial<ServerOptions>, body: (server: QaqServer, client: OpenAI) => Promise<void>): Promise<void> {
  const server = await QaqServer.start({ engine, kv: { kind: "fp32" }, port: 0, ...options });
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: options.apiKey ?? "unused", maxRetries: 0, timeout: 20_000 });
  try {
    await body(server, client);
  } finally {
    await server.close();
  }
}

/** What the library generates for `ids` (BOS first), and how many tokens. */
async function libraryText(ids: Int32Array, maxTokens: number, sampler: SamplerConfig, stopIds: readonly number[] = []): Promise<{ text: string; tokens: number }> {
  const cache = engine.createCache({ kind: "fp32" });
  const stats: { value?: GenerationStats } = {};
  let text = "";
  for await (const t of generate(engine, cache, ids, maxTokens, sampler, stats, { stopIds })) text += t.text;
  cache.dispose();
  return { text, tokens: stats.value!.generatedTokens };
}

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("completions: greedy text and usage equal the library's generate; a stream gives the same text", { timeout: 30_000 }, async () => {
  const ids = engine.tokenizer.encode(PROMPT);
  const expected = await libraryText(ids, 40, { kind: "greedy" });
  await withServer({}, async (_server, client) => {
    const whole = await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 40, temperature: 0 });
    assert.equal(whole.object, "text_completion");
    assert.equal(whole.choices[0]!.text, expected.text);
    assert.equal(whole.choices[0]!.finish_reason, "length");
    assert.deepEqual(whole.usage, { prompt_tokens: ids.length, completion_tokens: 40, total_tokens: ids.length + 40 });
    const stream = await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 40, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = "";
    const finishes: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        text += choice.text;
        finishes.push(choice.finish_reason);
      }
      // with include_usage every chunk has the field: null but on the last one, which has no choices
      assert.ok("usage" in chunk);
      if (chunk.usage) {
        assert.equal(chunk.choices.length, 0);
        usage = chunk.usage;
      }
    }
    assert.equal(text, expected.text);
    assert.equal(finishes.at(-1), "length");
    assert.equal(usage?.completion_tokens, 40);
  });
});

test("seeded sampling is reproducible and equals the library's sampler with the same seed", { timeout: 30_000 }, async () => {
  const ids = engine.tokenizer.encode(PROMPT);
  const expected = await libraryText(ids, 30, { kind: "sample", temperature: 0.8, topK: 0, topP: 0.9, seed: 1234 });
  await withServer({}, async (_server, client) => {
    const ask = () => client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 30, temperature: 0.8, top_p: 0.9, seed: 1234 });
    const [a, b] = await Promise.all([ask(), ask()]);
    assert.equal(a.choices[0]!.text, expected.text);
    assert.equal(b.choices[0]!.text, expected.text);
  });
});

test("chat: the plain-text chat prompt, greedy reply equal to the library's; streamed deltas give the same reply", { timeout: 30_000 }, async () => {
  const tokens = chatTokensOf(engine.tokenizer);
  const messages = [{ role: "user" as const, content: "Tell me a story." }];
  const rendered = ChatTemplate.plain().render(messages, { addGenerationPrompt: true, bosToken: tokens.bosText, eosToken: tokens.eosText });
  const ids = tokens.encode(rendered);
  const expected = await libraryText(ids, 30, { kind: "greedy" }, tokens.stopIds);
  await withServer({}, async (_server, client) => {
    const whole = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 30, temperature: 0 });
    assert.equal(whole.object, "chat.completion");
    assert.equal(whole.choices[0]!.message.role, "assistant");
    assert.equal(whole.choices[0]!.message.content, expected.text);
    assert.equal(whole.usage?.prompt_tokens, ids.length);
    assert.equal(whole.usage?.completion_tokens, expected.tokens);
    const stream = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 30, temperature: 0, stream: true });
    let text = "";
    let role: string | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0]!;
      role ??= choice.delta.role;
      text += choice.delta.content ?? "";
      finish = choice.finish_reason;
    }
    assert.equal(role, "assistant");
    assert.equal(text, expected.text);
    assert.equal(finish, whole.choices[0]!.finish_reason);
  });
});

test("stop strings end the text before the first one, streaming or not, with finish_reason stop", { timeout: 30_000 }, async () => {
  const full = (await libraryText(engine.tokenizer.encode(PROMPT), 40, { kind: "greedy" })).text;
  // a stop string from the middle of the greedy text: the answer is the text before its first occurrence
  const stop = full.slice(20, 25);
  const before = full.slice(0, full.indexOf(stop));
  await withServer({}, async (_server, client) => {
    const whole = await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 40, temperature: 0, stop: ["never appears", stop] });
    assert.equal(whole.choices[0]!.text, before);
    assert.equal(whole.choices[0]!.finish_reason, "stop");
    let streamed = "";
    for await (const chunk of await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 40, temperature: 0, stop, stream: true })) {
      streamed += chunk.choices[0]?.text ?? "";
    }
    assert.equal(streamed, before);
  });
});

test("errors in OpenAI's shape: bad field, unknown model, wrong key, oversize body, bad JSON, unknown route, wrong method", { timeout: 30_000 }, async () => {
  await withServer({ apiKey: "right-key", maxBodyBytes: 4096 }, async (server, client) => {
    const status = async (call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> => {
      try {
        await call;
      } catch (error) {
        assert.ok(error instanceof OpenAI.APIError, String(error));
        return error;
      }
      assert.fail("expected an error");
    };
    const bad = await status(client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: -3 }));
    assert.equal(bad.status, 400);
    assert.equal(bad.param, "max_tokens");
    assert.equal(bad.type, "invalid_request_error");
    const model = await status(client.completions.create({ model: "gpt-4o", prompt: PROMPT }));
    assert.equal(model.status, 404);
    assert.equal(model.code, "model_not_found");
    const wrong = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "wrong-key", maxRetries: 0 });
    assert.equal((await status(wrong.models.list())).status, 401);
    const big = await status(client.completions.create({ model: MODEL, prompt: "x".repeat(10_000) }));
    assert.equal(big.status, 413);
    assert.equal((await client.models.list()).data[0]!.id, MODEL);

    const auth = { Authorization: "Bearer right-key", "Content-Type": "application/json" };
    const json = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", headers: auth, body: "{not json" });
    assert.equal(json.status, 400);
    assert.equal(((await json.json()) as { error: { code: string } }).error.code, "invalid_json");
    const route = await fetch(`${server.url}/v1/engines`, { headers: auth });
    assert.equal(route.status, 404);
    assert.equal(((await route.json()) as { error: { type: string } }).error.type, "not_found_error");
    const method = await fetch(`${server.url}/v1/completions`, { headers: auth });
    assert.equal(method.status, 405);
    assert.equal(method.headers.get("allow"), "POST");
    const files = await fetch(`${server.url}/../package.json`, { headers: auth });
    assert.equal(files.status, 404);
    assert.equal((await fetch(`${server.url}/health`)).status, 200, "/health needs no key");
    assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
  });
});

test("a prompt longer than the context is refused with 400 context_length_exceeded", { timeout: 30_000 }, async () => {
  await withServer({ capacity: 16 }, async (_server, client) => {
    try {
      await client.completions.create({ model: MODEL, prompt: "Once upon a time there was a little girl named Lily who liked to play.", max_tokens: 4 });
      assert.fail("expected a 400");
    } catch (error) {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 400);
      assert.equal(error.code, "context_length_exceeded");
    }
  });
});

test("a client that aborts a stream cancels its generation and its cache is disposed at once", { timeout: 30_000 }, async () => {
  await withServer({}, async (server, client) => {
    const stream = await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 400, temperature: 1, seed: 7, stream: true });
    let chunks = 0;
    let disposed = false;
    for await (const _chunk of stream) {
      if (++chunks === 1) {
        const cache = server.scheduler.activeJobs[0]!.cache!;
        const dispose = cache.dispose.bind(cache);
        cache.dispose = () => {
          disposed = true;
          dispose();
        };
      }
      if (chunks === 3) break; // leaving the loop aborts the request
    }
    await until(() => server.scheduler.activeJobs.length === 0, "the active sessions to drop to 0");
    assert.ok(disposed, "the aborted request's cache was disposed");
    assert.equal(server.scheduler.counters.jobsCancelled, 1);
    assert.equal(server.scheduler.counters.sessionsReleased, server.scheduler.counters.sessionsOpened);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^qaq_active_sessions 0$/m);
    assert.match(metrics, /^qaq_kv_hot_bytes 0$/m);
  });
});

test("4 concurrent streams with 2 in parallel all complete, each with the text it has alone; a full queue gives 429", { timeout: 60_000 }, async () => {
  const prompts = ["Once upon a time", "The cat", "Tom had a ball", "One day"];
  const expected = await Promise.all(prompts.map((p) => libraryText(engine.tokenizer.encode(p), 30, { kind: "greedy" })));
  await withServer({ parallel: 2, maxQueue: 2 }, async (server, client) => {
    let peakQueue = 0;
    const streams = prompts.map(async (prompt) => {
      let text = "";
      for await (const chunk of await client.completions.create({ model: MODEL, prompt, max_tokens: 30, temperature: 0, stream: true })) {
        text += chunk.choices[0]?.text ?? "";
        peakQueue = Math.max(peakQueue, server.scheduler.queueLength);
      }
      return text;
    });
    const busy = await until(() => server.scheduler.queueLength === 2, "two queued requests").then(() =>
      client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 5 }).then(
        () => 200,
        (error: InstanceType<typeof OpenAI.APIError>) => error.status,
      ),
    );
    assert.deepEqual(await Promise.all(streams), expected.map((e) => e.text));
    assert.equal(busy, 429);
    assert.ok(peakQueue >= 1, "some requests waited in the queue");
    assert.equal(server.scheduler.activeJobs.length, 0);
  });
});

test("closing the server cancels a stream in flight and frees its cache", { timeout: 30_000 }, async () => {
  const server = await QaqServer.start({ engine, kv: { kind: "fp32" }, port: 0 });
  const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
  const stream = await client.completions.create({ model: MODEL, prompt: PROMPT, max_tokens: 400, temperature: 1, seed: 3, stream: true });
  const read = (async () => {
    for await (const _chunk of stream) {
      /* read until the server ends the stream */
    }
  })().then(
    () => undefined,
    (error: unknown) => error,
  );
  await until(() => server.scheduler.activeJobs.length === 1, "the stream to start");
  await server.close();
  const error = await read;
  assert.ok(error instanceof OpenAI.APIError, `the client sees the shutdown as an API error: ${String(error)}`);
  assert.match(error.message, /shutting down/);
  assert.equal(server.scheduler.counters.sessionsReleased, 1);
});

test("qaq serve answers /health and exits 0 on SIGTERM", { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, "dist/src/cli/main.js"), "serve", "--port", "0", "--threads", "1"], { stdio: ["ignore", "ignore", "pipe"] });
  try {
    let err = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", (d: Buffer) => {
        err += d.toString();
        const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
        if (m) resolve(m[1]!);
      });
      child.once("exit", () => reject(new Error(`qaq serve exited early: ${err}`)));
    });
    assert.deepEqual(await (await fetch(`${url}/health`)).json(), { status: "ok" });
    const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    assert.equal(await exit, 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});
