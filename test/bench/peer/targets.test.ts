import { test } from "node:test";
import assert from "node:assert/strict";
import type { BenchJob, JobRecord, SweepShape } from "../../../src/bench/peer/job.js";
import type { ModelResults } from "../../../src/bench/peer/runSuite.js";
import { judgeTargets } from "../../../src/bench/peer/targets.js";

const SWEEP: SweepShape = { prefillTokens: 128, contexts: [128], decodeSteps: 1, repeats: 1 };

/** A successful record whose decode speeds at each context length are given. */
function record(engine: "qaq" | "llama.cpp", cache: string, speeds: Readonly<Record<number, number>>, spread = 0): JobRecord {
  const model = { label: "m", weightType: "q8_0", path: "/m.gguf" };
  const job = (engine === "qaq"
    ? { engine, model, cache, threads: 1, sweep: SWEEP }
    : { engine, model, cache, threads: 1, sweep: SWEEP, peerDir: "/peer" }) as BenchJob;
  const points = Object.entries(speeds).map(([length, speed]) => ({
    contextTokens: Number(length),
    decodeTokensPerSecond: speed,
    decodeSamples: [speed - spread, speed, speed + spread],
    internalDecodeTokensPerSecond: null,
    growSeconds: 0,
    kvBytes: 0,
  }));
  const measurement = {
    prefillTokensPerSecond: 1,
    prefillSamples: [1],
    nextTokenAfterPrefill: 0,
    points,
    kv: { source: "test", allocatedBytes: null, backingBytes: 0 },
    threadsUsed: 1,
    engineVersion: "test",
  };
  return { job, outcome: { ok: true, measurement, peakRssBytes: 0, endRssBytes: 0 }, wallSeconds: 0, loadAverage: 0 };
}

function modelResults(label: string, runs: JobRecord[]): ModelResults {
  return {
    suite: "s",
    model: { label, weightType: "q8_0", path: "/m.gguf" },
    probes: [],
    chosenThreads: { qaq: 1, "llama.cpp": 1 },
    runs,
    skipped: [],
  };
}

test("short-context target: the fp16/f16 decode ratio against 0.5", () => {
  const missed = judgeTargets([modelResults("TinyLlama-shape q8_0", [record("qaq", "fp16", { 128: 6 }), record("llama.cpp", "f16", { 128: 20 })])]);
  assert.equal(missed[0]!.met, false);
  assert.match(missed[0]!.measured, /L=128: 6\.0 \[6\.0-6\.0\] vs 20\.0 \[20\.0-20\.0\] tok\/s = 0\.30x/);
  const met = judgeTargets([modelResults("TinyLlama-shape q8_0", [record("qaq", "fp16", { 128: 12 }), record("llama.cpp", "f16", { 128: 20 })])]);
  assert.equal(met[0]!.met, true);
});

test("crossover: the shortest length from which on every longer one beats fp32", () => {
  const runs = [
    record("qaq", "fp32", { 128: 100, 512: 90, 2048: 60, 4096: 40 }),
    // faster at 128 (noise), slower at 512, faster from 2048 on: the crossover is 2048
    record("qaq", "blockq:q4_0", { 128: 101, 512: 80, 2048: 70, 4096: 60 }),
    // never faster
    record("qaq", "kivi:bits=4", { 128: 50, 512: 50, 2048: 50, 4096: 30 }),
    record("llama.cpp", "q4_0", { 128: 200, 512: 190, 2048: 150, 4096: 50 }),
  ];
  const verdicts = judgeTargets([modelResults("shallow-long q8_0", runs)]);
  const byCache = (cache: string) => verdicts.find((v) => v.target.startsWith(cache))!;
  assert.equal(byCache("blockq:q4_0").met, true);
  assert.match(byCache("blockq:q4_0").measured, /crossover at L=2048; at L=4096: 60\.0 \[60\.0-60\.0\] vs 40\.0 \[40\.0-40\.0\] tok\/s = 1\.50x/);
  assert.equal(byCache("kivi:bits=4").met, false);
  assert.match(byCache("kivi:bits=4").measured, /no crossover up to L=4096/);
  assert.equal(byCache("qaq").met, null);
  // longest context: the best low-bit cache (blockq:q4_0, 60) against llama.cpp q4_0 (50) at 4096
  const longest = verdicts.at(-1)!;
  assert.equal(longest.met, true);
  assert.match(longest.measured, /L=4096: blockq:q4_0 60\.0 \[60\.0-60\.0\] vs q4_0 50\.0 \[50\.0-50\.0\] tok\/s = 1\.20x/);
});

test("targets without their measurements say so instead of guessing", () => {
  const verdicts = judgeTargets([]);
  assert.equal(verdicts.length, 8);
  for (const v of verdicts) {
    assert.equal(v.met, null);
    assert.equal(v.measured, "not measured");
  }
});

test("within the noise of the repeated blocks a higher median is no win", () => {
  const runs = [record("qaq", "fp32", { 4096: 40 }, 5), record("qaq", "qaq", { 4096: 44 }, 5)];
  const qaq = judgeTargets([modelResults("shallow-long q8_0", runs)]).find((v) => v.target.startsWith("qaq"))!;
  assert.equal(qaq.met, false, "39..49 overlaps 35..45");
  assert.match(qaq.measured, /no crossover up to L=4096; at L=4096: 44\.0 \[39\.0-49\.0\] vs 40\.0 \[35\.0-45\.0\] tok\/s = 1\.10x/);
});

test("comparisons stay within one suite run: the one reaching the longest context is used", () => {
  const shallow = modelResults("shallow-long q8_0", [
    record("qaq", "fp32", { 128: 100, 8192: 40 }),
    record("qaq", "blockq:q4_0", { 128: 90, 8192: 30 }),
    record("qaq", "kivi:bits=4", { 128: 90, 8192: 50 }),
  ]);
  const long = modelResults("shallow-long q8_0", [
    record("qaq", "fp32", { 8192: 20, 16384: 20 }),
    record("qaq", "blockq:q4_0", { 8192: 45, 16384: 30 }),
    record("llama.cpp", "q4_0", { 8192: 60, 16384: 25 }),
  ]);
  const verdicts = judgeTargets([shallow, long]);
  const q4 = verdicts.find((v) => v.target.startsWith("blockq:q4_0"))!;
  assert.match(q4.measured, /^crossover at L=8192; at L=16384: 30\.0 .* vs 20\.0 .* = 1\.50x/);
  // kivi ran only in the shallow suite: compared with that suite's fp32 (40 at 8192), not the long suite's (20)
  const kivi = verdicts.find((v) => v.target.startsWith("kivi:bits=4"))!;
  assert.match(kivi.measured, /^crossover at L=8192; at L=8192: 50\.0 .* vs 40\.0 .* = 1\.25x/);
  assert.match(verdicts.at(-1)!.measured, /^L=16384: blockq:q4_0 30\.0 .* vs q4_0 25\.0 .* = 1\.20x/);
});

test("K-quant targets: Q4_K_M decode against 0.9x and prefill against 0.5x llama.cpp, judged on the q4_k_m model only", () => {
  const verdicts = (qaqDecode: number) =>
    judgeTargets([
      modelResults("TinyLlama-shape q8_0", [record("qaq", "fp16", { 128: 1 }), record("llama.cpp", "f16", { 128: 100 })]),
      modelResults("TinyLlama-shape q4_k_m", [record("qaq", "fp16", { 128: qaqDecode }), record("llama.cpp", "f16", { 128: 20 })]),
    ]).filter((v) => v.target.includes("Q4_K_M"));
  const [decode, prefill] = verdicts(17);
  assert.equal(decode!.met, false);
  assert.match(decode!.measured, /= 0\.85x/);
  assert.equal(verdicts(18)[0]!.met, true);
  // both records have prefill 1 tok/s: a ratio of 1
  assert.equal(prefill!.met, true);
  assert.match(prefill!.measured, /= 1\.00x/);
});
