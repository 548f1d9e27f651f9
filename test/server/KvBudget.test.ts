import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../../src/engine/Engine.js";
import { parseKvSpec } from "../../src/cache/spec.js";
import { GenerationJob, type JobResult } from "../../src/server/GenerationJob.js";
import { KvBudget } from "../../src/server/KvBudget.js";
import { Scheduler } from "../../src/server/Scheduler.js";
import { ConfigError } from "../../src/util/errors.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER, SKIP_STUDENT64, STUDENT64_MODEL, STUDENT64_TOKENIZER } from "../support/paths.js";

/**
 * --kv-budget: the hot bytes of all sessions together, measured (nbytes().hot) after every scheduler step, never
 * exceed the budget; fixed caches wait for room, QAQ caches shrink to share it.
 */
const PROMPTS = ["Once upon a time", "The little dog ran", "Tom and Sue went to the park", "One day a bird"];

function job(engine: Engine, prompt: string, maxTokens: number, results: JobResult[], failures: Error[]): GenerationJob {
  return new GenerationJob(
    { promptIds: engine.tokenizer.encode(prompt), maxTokens, sampler: { kind: "greedy" }, stop: [], stopIds: [] },
    { text: () => {}, finish: (r) => results.push(r), fail: (e) => failures.push(e) },
  );
}

interface Observed {
  maxTotalHot: number;
  maxActive: number;
  /** per step: the number of active sessions and the largest of their hot bytes over their fp16 bytes */
  steps: { active: number; bytesPerFp16: number }[];
}

function observe(engine: Engine, observed: Observed): (active: readonly GenerationJob[]) => void {
  const { nLayers, nKvHeads, headDim } = engine.config;
  return (active) => {
    let total = 0;
    let worst = 0;
    for (const j of active) {
      if (!j.cache) continue;
      const hot = j.cache.nbytes().hot;
      total += hot;
      worst = Math.max(worst, hot / (2 * 2 * nLayers * nKvHeads * headDim * j.position));
    }
    observed.maxTotalHot = Math.max(observed.maxTotalHot, total);
    observed.maxActive = Math.max(observed.maxActive, active.length);
    observed.steps.push({ active: active.length, bytesPerFp16: worst });
  };
}

test("fp16 under a budget of two conversations: two generate at once, the others wait; measured total within the budget", { timeout: 60_000 }, async () => {
  const engine = await Engine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 1);
  try {
    const kv = parseKvSpec("fp16");
    const capacity = 64;
    const probe = KvBudget.create(engine, kv, capacity, 1 << 30);
    // fp16 holds 2 bytes per value: 640 bytes per token on stories260K (5 layers, 4 KV heads of 8)
    assert.equal(probe.need(capacity), 64 * 640);
    const budget = KvBudget.create(engine, kv, capacity, 2 * probe.need(capacity) + 100);
    const observed: Observed = { maxTotalHot: 0, maxActive: 0, steps: [] };
    const scheduler = new Scheduler(engine, kv, { capacity, parallel: 4, maxQueue: 8, kvBudget: budget, onStep: observe(engine, observed) });
    const results: JobResult[] = [];
    const failures: Error[] = [];
    for (const prompt of PROMPTS) scheduler.submit(job(engine, prompt, 60, results, failures));
    await scheduler.idle();
    assert.deepEqual(failures, []);
    assert.equal(results.length, 4);
    assert.equal(observed.maxActive, 2, "two conversations fit beside each other, not more");
    assert.ok(observed.maxTotalHot <= budget.totalBytes, `measured ${observed.maxTotalHot} > budget ${budget.totalBytes}`);
    assert.equal(budget.reservedBytes, 0);
    // under a budget of half a conversation: a short request runs, one that can reach the full context would need
    // more than the whole budget alone, and is refused at once with 503 naming both figures
    const half = new Scheduler(engine, kv, { capacity, parallel: 4, maxQueue: 8, kvBudget: KvBudget.create(engine, kv, capacity, 20480) });
    half.submit(job(engine, "Once", 10, results, failures));
    assert.throws(
      () => half.submit(job(engine, "Once", 10_000, results, failures)),
      (e: { status?: number; message?: string }) => e.status === 503 && /reach 64 positions.*needs 40960 bytes.*kv-budget is 20480 bytes/.test(e.message ?? ""),
    );
    await half.idle();
    assert.deepEqual(failures, []);
    assert.equal(results.length, 5);
  } finally {
    engine.dispose();
  }
});

test("a budget below one token, and qaq with its own budget, are refused with the flag named", { timeout: 30_000 }, async () => {
  const engine = await Engine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 1);
  try {
    assert.throws(() => KvBudget.create(engine, parseKvSpec("fp16"), 64, 100), (e: Error) => e instanceof ConfigError && /kv-budget/.test(e.message));
    assert.throws(() => KvBudget.create(engine, parseKvSpec("qaq:budget=1MB"), 64, 1 << 20), (e: Error) => e instanceof ConfigError && /--kv-budget sets the budget/.test(e.message));
  } finally {
    engine.dispose();
  }
});

test("student64, qaq under a shared budget: four conversations at once where fp16 fits one, each compressed harder than alone, total within the budget", { timeout: 120_000, skip: SKIP_STUDENT64 }, async () => {
  const engine = await Engine.load(STUDENT64_MODEL, STUDENT64_TOKENIZER, 1);
  try {
    const kv = parseKvSpec("qaq");
    const capacity = 128;
    const fp16Conversation = 2048 * capacity; // 4 layers · 2 KV heads · 64 · (K + V) · 2 bytes per token
    // room for four conversations at 1.3 times QAQ's cheapest allocation (its dearest, 8 bits everywhere, is about
    // twice the cheapest here), where fp16 fits one
    const cheapest = KvBudget.create(engine, kv, capacity, 1 << 30).need(capacity);
    const budget = KvBudget.create(engine, kv, capacity, Math.floor(4 * 1.3 * cheapest));
    assert.ok(budget.totalBytes < 2 * fp16Conversation, `budget ${budget.totalBytes}, one fp16 conversation ${fp16Conversation}`);
    const run = async (prompts: readonly string[]): Promise<Observed> => {
      const observed: Observed = { maxTotalHot: 0, maxActive: 0, steps: [] };
      const scheduler = new Scheduler(engine, kv, { capacity, parallel: 4, maxQueue: 8, kvBudget: budget, onStep: observe(engine, observed) });
      const results: JobResult[] = [];
      const failures: Error[] = [];
      for (const prompt of prompts) scheduler.submit(job(engine, prompt, 100, results, failures));
      await scheduler.idle();
      assert.deepEqual(failures, []);
      assert.equal(results.length, prompts.length);
      assert.ok(observed.maxTotalHot <= budget.totalBytes, `measured ${observed.maxTotalHot} > budget ${budget.totalBytes}`);
      return observed;
    };
    const alone = await run(PROMPTS.slice(0, 1));
    const shared = await run(PROMPTS);
    assert.equal(shared.maxActive, 4);
    // bytes per fp16 byte at the last step with every conversation active (all near 100 tokens): alone, the budget
    // leaves QAQ its dearest widths; shared four ways it binds, and the caches are narrower
    const last = (o: Observed, active: number) => o.steps.filter((step) => step.active === active).pop()!.bytesPerFp16;
    assert.ok(last(shared, 4) < 0.8 * last(alone, 1), `shared ${last(shared, 4)} vs alone ${last(alone, 1)} bytes per fp16 byte`);
  } finally {
    engine.dispose();
  }
});
