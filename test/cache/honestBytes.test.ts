import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../../src/engine/Engine.js";
import { cacheReport } from "../../src/cache/cacheReport.js";
import { parseKvSpec } from "../../src/cache/spec.js";
import type { ReportingCache } from "../../src/cache/CacheReportView.js";
import { ConfigError } from "../../src/util/errors.js";
import { SKIP_STUDENT64, STUDENT64_MODEL, STUDENT64_TOKENIZER } from "../support/paths.js";
import { recordStream, replayStream, type RecordedStream } from "../support/recordedStream.js";
import { isCacheStorage, trackHeap, type HeapTracker } from "./trackHeap.js";

/**
 * Bytes of a cache = bytes its tokens need (issue 10, point 2) for the unquantized, blockq, KIVI and eviction caches,
 * on student64 (head size 64, 4 layers, 2 KV heads) after a 4096-token stream of real K/V (recordedStream.ts: the
 * engine run at a 4096-position context, replayed one token per step into a cache of capacity 4096).
 * Expected figures are worked out here from each layout, independently of the caches' own accounting; every cache
 * is also held to the heap: hot + slack = the bytes of the regions it really holds.
 */
const TOKENS = 4096;
const LAYERS = 4;
const KV_HEADS = 2;
const D = 64;
const VALUES_PER_TOKEN = LAYERS * 2 * KV_HEADS * D; // K and V of every layer

let engine: Engine;
let stream: RecordedStream;
let heap: HeapTracker;

before(async () => {
  if (SKIP_STUDENT64) return;
  engine = await Engine.load(STUDENT64_MODEL, STUDENT64_TOKENIZER, 1, { contextLength: TOKENS });
  heap = trackHeap(engine.compute.heap);
  stream = recordStream(engine, TOKENS);
});
after(() => engine?.dispose());

/** A cache of capacity 4096 fed the first `tokens` positions; checked against the heap, then handed to `check`. */
function measured(spec: string, tokens: number, check: (cache: ReportingCache) => void): void {
  const before = heap.liveBytes(isCacheStorage);
  const cache = engine.createCache(parseKvSpec(spec), TOKENS);
  try {
    replayStream(cache, stream, 0, tokens);
    const bytes = cache.nbytes();
    const held = heap.liveBytes(isCacheStorage) - before;
    assert.equal(bytes.hot + bytes.slack, held, `${spec}: hot ${bytes.hot} + slack ${bytes.slack} vs ${held} bytes held`);
    assert.ok(bytes.slack >= 0, `${spec}: slack ${bytes.slack}`);
    check(cache);
  } finally {
    cache.dispose();
  }
}

test("fp16 is 16.0 and fp32 32.0 bits per value after 4096 tokens, their whole allocation in use", { skip: SKIP_STUDENT64 }, () => {
  for (const [spec, bits] of [["fp16", 16], ["fp32", 32]] as const) {
    measured(spec, TOKENS, (cache) => {
      const report = cacheReport(cache, engine.config);
      assert.equal(report.bitsPerValue, bits);
      assert.equal(report.hotBytes, (TOKENS * VALUES_PER_TOKEN * bits) / 8);
      assert.equal(report.slackBytes, 0);
      assert.equal(report.ratioVsFp16, 16 / bits);
    });
  }
});

test("capacity grown by doubling is slack, not bits: fp32 with 3 tokens is 32.0 bits per value", { skip: SKIP_STUDENT64 }, () => {
  for (const [spec, tokens, bits, capacity] of [["fp32", 3, 32, 64], ["fp16", 1000, 16, 1024]] as const) {
    measured(spec, tokens, (cache) => {
      const report = cacheReport(cache, engine.config);
      assert.equal(report.bitsPerValue, bits, spec);
      assert.equal(report.slackBytes, ((capacity - tokens) * VALUES_PER_TOKEN * bits) / 8, spec);
    });
  }
});

test("blockq is 8.5 (q8_0) and 4.5 (q4_0) bits per value: 34 or 18 bytes per block of 32", { skip: SKIP_STUDENT64 }, () => {
  for (const [format, blockBytes] of [["q8_0", 34], ["q4_0", 18]] as const) {
    for (const tokens of [TOKENS, 100]) {
      measured(`blockq:${format}`, tokens, (cache) => {
        const report = cacheReport(cache, engine.config);
        assert.equal(report.bitsPerValue, (8 * blockBytes) / 32, `${format} at ${tokens}`);
        assert.equal(report.metadataBytes, (tokens * VALUES_PER_TOKEN * 2) / 32);
      });
    }
  }
});

test("KIVI's bytes are its blocks, value groups, their metadata and residual rows, nothing more", { skip: SKIP_STUDENT64 }, () => {
  const residualLength = 128;
  for (const bits of [2, 4]) {
    measured(`kivi:bits=${bits}`, TOKENS, (cache) => {
      // flush rule: the residual keeps 128..159 tokens; whole blocks of 32 below it are quantized
      const quantized = 32 * Math.floor((TOKENS - residualLength) / 32);
      const residual = TOKENS - quantized;
      const blocks = quantized / 32;
      const codeRow = (D * bits) / 8;
      const keyBlocks = blocks * (32 * codeRow + 2 * 2 * D); // codes, then per-channel fp16 scale and zero
      const keyPointers = blocks * 4;
      const valueCodes = quantized * codeRow;
      // per value group (residual ones empty): 4-bit width, f16 scale and zero, and one u32 block pointer per 256
      // groups (TOKENS is a multiple of 32, the step in which the metadata arrays grow)
      const valueMetadata = TOKENS / 2 + 4 * TOKENS + 4 * Math.ceil(TOKENS / 256);
      const residualRows = 2 * residual * D * 2; // keys and values in fp16
      const perLayerHead = keyBlocks + keyPointers + valueCodes + valueMetadata + residualRows;
      const report = cacheReport(cache, engine.config);
      assert.equal(report.hotBytes, LAYERS * KV_HEADS * perLayerHead, `kivi:bits=${bits}`);
      assert.equal(report.residualBytes, LAYERS * KV_HEADS * residualRows);
    });
  }
});

test("eviction caches hold their budget's fp16 rows and slot entries", { skip: SKIP_STUDENT64 }, () => {
  for (const [spec, entryBytes] of [["h2o:budget=256", 8], ["streaming:budget=256", 4]] as const) {
    measured(spec, TOKENS, (cache) => {
      const report = cacheReport(cache, engine.config);
      const perLayerHead = 256 * (2 * D * 2 + entryBytes); // K and V rows in fp16, position (+ accumulated attention)
      assert.equal(report.hotBytes, LAYERS * KV_HEADS * perLayerHead, spec);
      // every position seen counts in the ratio: 4096 tokens' fp16 bytes over what 256 kept tokens take
      assert.equal(report.fp16Bytes, 2 * TOKENS * VALUES_PER_TOKEN);
    });
  }
});

/**
 * (QAQ's counterpart, with attention, is in replay/packedBytes.test.ts.)
 * Slack of one packed sequence of `count` groups: its metadata arrays (4-bit widths, f16 scales and zeros, a u32 per
 * 256 groups) are allocated for the count rounded up to 32 groups; the live groups need the exact count's.
 */
function sequenceRoom(count: number): number {
  const capacity = 32 * Math.ceil(count / 32);
  const need = (n: number) => Math.ceil(n / 2) + 4 * n + 4 * Math.ceil(n / 256);
  return need(capacity) - need(count);
}

test("uniform: hot is what the live groups need, the metadata arrays' room (steps of 32 groups) is slack", { skip: SKIP_STUDENT64 }, () => {
  const tokens = 1000; // not a multiple of 32: every sequence has room for 24 more groups
  const room = sequenceRoom(tokens);
  assert.equal(room, 12 + 4 * 24);
  for (const [spec, groupsPerToken] of [["uniform:bits=4", KV_HEADS], ["uniform:k=4,v=2,group=layer,outliers=0.01", 1]] as const) {
    measured(spec, tokens, (cache) => {
      // a sequence per (layer, part, group)
      assert.equal(cache.nbytes().slack, LAYERS * 2 * groupsPerToken * room, spec);
    });
  }
});

test("a context length that is not a positive integer is refused before loading", { skip: SKIP_STUDENT64 }, async () => {
  for (const contextLength of [0, -4, 1.5, 1 << 30]) {
    await assert.rejects(Engine.load(STUDENT64_MODEL, STUDENT64_TOKENIZER, 1, { contextLength }), ConfigError);
  }
});
