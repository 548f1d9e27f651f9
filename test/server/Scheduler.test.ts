import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../../src/engine/Engine.js";
import { GenerationJob, type JobResult } from "../../src/server/GenerationJob.js";
import { Scheduler } from "../../src/server/Scheduler.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER } from "../support/paths.js";

/** The order in which jobs produce tokens, on stories260K with greedy jobs of a fixed length (no EOS in 8 tokens). */
let engine: Engine;
before(async () => {
  engine = await Engine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 1);
});
after(() => engine.dispose());

function job(label: string, order: string[], results: Map<string, JobResult>): GenerationJob {
  return new GenerationJob(
    { promptIds: engine.tokenizer.encode("Once upon a time"), maxTokens: 8, sampler: { kind: "greedy" }, stop: [], stopIds: [] },
    {
      text: () => order.push(label),
      finish: (result) => results.set(label, result),
      fail: (error) => assert.fail(error),
    },
  );
}

/** Collapses runs: "AABB" -> "AB". */
function runs(order: string[]): string {
  return order.filter((label, i) => label !== order[i - 1]).join("");
}

test("active jobs advance one token each per step, batched; the queue is served oldest first", { timeout: 30_000 }, async () => {
  const order: string[] = [];
  const results = new Map<string, JobResult>();
  const scheduler = new Scheduler(engine, { kind: "fp32" }, { capacity: 64, parallel: 2, maxQueue: 8 });
  for (const label of ["A", "B", "C"]) scheduler.submit(job(label, order, results));
  await scheduler.idle();
  // A and B alternate while both are active; C starts when a slot frees
  // (a token whose text is "" (part of a character) sends nothing, so count, at every point, the texts A and B sent)
  let a = 0;
  let b = 0;
  for (const label of order.filter((l) => l !== "C")) {
    if (label === "A") a++;
    else b++;
    assert.ok(Math.abs(a - b) <= 2, `A and B take turns (A ${a}, B ${b} texts so far): ${order.join("")}`);
  }
  assert.ok(order.indexOf("C") > order.lastIndexOf("A"), "C waited for a free slot");
  assert.deepEqual([...results.values()].map((r) => r.finishReason), ["length", "length", "length"]);
  const { sessionsOpened, sessionsReleased, jobsCancelled, steps, forwardPasses } = scheduler.counters;
  assert.deepEqual({ sessionsOpened, sessionsReleased, jobsCancelled }, { sessionsOpened: 3, sessionsReleased: 3, jobsCancelled: 0 });
  // A and B share their steps (one pass each for both), then C runs alone: 8 + 8 steps, not 8 + 8 + 8
  assert.equal(steps, 16);
  assert.equal(forwardPasses, 16);
});

test("a full queue refuses with 429; a cancelled queued job never opens a cache", { timeout: 30_000 }, async () => {
  const order: string[] = [];
  const results = new Map<string, JobResult>();
  const scheduler = new Scheduler(engine, { kind: "fp32" }, { capacity: 64, parallel: 1, maxQueue: 1 });
  const a = job("A", order, results);
  const b = job("B", order, results);
  scheduler.submit(a);
  scheduler.submit(b);
  assert.throws(() => scheduler.submit(job("C", order, results)), (e: { status?: number }) => e.status === 429);
  scheduler.cancel(b);
  await scheduler.idle();
  assert.equal(runs(order), "A");
  const { sessionsOpened, sessionsReleased, jobsCancelled } = scheduler.counters;
  assert.deepEqual({ sessionsOpened, sessionsReleased, jobsCancelled }, { sessionsOpened: 1, sessionsReleased: 1, jobsCancelled: 1 });
});
