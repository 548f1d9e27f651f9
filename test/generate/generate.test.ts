import { test } from "node:test";
import assert from "node:assert/strict";
import type { Engine } from "../../src/engine/Engine.js";
import type { ReportingCache } from "../../src/cache/CacheReportView.js";
import { generate, type GenerationStats } from "../../src/generate/generate.js";
import type { SamplerConfig } from "../../src/generate/sampler.js";
import { tokenizerFromLlama2cFile } from "../../src/tokenizer/loadTokenizer.js";
import { Engine as RealEngine } from "../../src/engine/Engine.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER } from "../support/paths.js";

/**
 * The generate loop on a scripted model: forward(tokens, pos) returns logits whose argmax is the next id of a fixed
 * script, so what the loop must yield, where it must stop and which positions it must feed follow from the script
 * alone (not from any model). The real tokenizer (tok512) turns ids into text; EOS is id 2. The cache is a stand-in
 * that only says it is empty (the scripted model never touches it).
 */
const tokenizer = tokenizerFromLlama2cFile(BUNDLED_TOKENIZER);
const VOCAB = 512;

interface Scripted {
  readonly engine: Engine;
  /** (first position, token count) of every forward call */
  readonly calls: [number, number][];
}

function scriptedEngine(script: readonly number[], seqLen: number): Scripted {
  const calls: [number, number][] = [];
  let step = 0;
  const model = {
    forward(tokens: Int32Array, pos0: number): Float32Array {
      calls.push([pos0, tokens.length]);
      const logits = new Float32Array(VOCAB);
      logits[script[Math.min(step++, script.length - 1)]!] = 10;
      return logits;
    },
  };
  const engine = { config: { seqLen, vocabSize: VOCAB }, tokenizer, model } as unknown as Engine;
  return { engine, calls };
}

async function collect(engine: Engine, prompt: number[], maxTokens: number, sampler: SamplerConfig = { kind: "greedy" }, cache = { nextPos: 0 } as ReportingCache) {
  const stats: { value?: GenerationStats } = {};
  const ids: number[] = [];
  let text = "";
  for await (const token of generate(engine, cache, Int32Array.from(prompt), maxTokens, sampler, stats)) {
    if (token.id >= 0) ids.push(token.id);
    text += token.text;
  }
  return { ids, text, stats: stats.value! };
}

test("stops at end of text: EOS is not yielded, stoppedBy eos", async () => {
  const { engine, calls } = scriptedEngine([403, 407, 2, 261], 512);
  const { ids, stats } = await collect(engine, [1], 100);
  assert.deepEqual(ids, [403, 407]);
  assert.equal(stats.stoppedBy, "eos");
  assert.equal(stats.generatedTokens, 2);
  // the prompt at 0, then each kept token at the next position; EOS came from the last call's logits
  assert.deepEqual(calls, [[0, 1], [1, 1], [2, 1]]);
});

test("stops at the token limit without running the last token through the model", async () => {
  const { engine, calls } = scriptedEngine([403, 407, 261, 378], 512);
  const { ids, stats } = await collect(engine, [1, 403], 3);
  assert.deepEqual(ids, [403, 407, 261]);
  assert.equal(stats.stoppedBy, "max-tokens");
  assert.deepEqual(calls, [[0, 2], [2, 1], [3, 1]]);
});

test("stops when the context is full", async () => {
  const { engine, calls } = scriptedEngine([403], 4);
  const { ids, stats } = await collect(engine, [1, 403], 100);
  // positions 2 and 3 are filled by generated tokens; the token sampled after position 3 is yielded but not fed
  assert.deepEqual(ids, [403, 403, 403]);
  assert.equal(stats.stoppedBy, "context");
  assert.deepEqual(calls, [[0, 2], [2, 1], [3, 1]]);
});

test("text streams as the tokenizer decodes the ids (no leading space after BOS)", async () => {
  const { engine } = scriptedEngine([403, 407, 2], 512);
  const { ids, text } = await collect(engine, [1], 10);
  assert.equal(text, tokenizer.decode([1, ...ids]));
});

test("sampling with a seed is reproducible through the loop on the real model; another seed differs", { timeout: 60_000 }, async () => {
  const engine = await RealEngine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 1);
  try {
    const run = async (seed: number) => {
      const cache = engine.createCache({ kind: "fp32" });
      try {
        return (await collect(engine, [1], 48, { kind: "sample", temperature: 1, topK: 0, topP: 1, seed }, cache)).ids;
      } finally {
        cache.dispose();
      }
    };
    const first = await run(11);
    assert.equal(first.length > 0, true);
    assert.deepEqual(await run(11), first);
    assert.notDeepEqual(await run(12), first);
  } finally {
    engine.dispose();
  }
});
