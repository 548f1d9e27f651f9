import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkKvLine,
  errorLines,
  evalLineCount,
  kvBytesForTokens,
  lastEvalCounters,
  parseKvCacheLine,
  waitForLogs,
} from "../../../src/bench/peer/llamaCppLog.js";

// Lines as llama.cpp (node-llama-cpp 3.22.1's prebuilt binary) logged them for the TinyLlama-shape model, prefixed
// with the level the runner's logger adds.
const TINYLLAMA_LOG = [
  "info: print_info: n_layer               = 22",
  "info: print_info: n_head_kv             = 4",
  "info: print_info: n_embd_k_gqa          = 256",
  "info: print_info: n_embd_v_gqa          = 256",
  "info: print_info: n_vocab               = 32000",
  "info: llama_kv_cache:        CPU KV buffer size =     5.50 MiB",
  "info: llama_kv_cache: size =    5.50 MiB (   256 cells,  22 layers,  1/1 seqs), K (f16):    2.75 MiB, V (f16):    2.75 MiB",
];

test("reads the KV size line", () => {
  assert.deepEqual(parseKvCacheLine(TINYLLAMA_LOG), { totalMiB: 5.5, cells: 256, layers: 22, keyType: "f16", valueType: "f16" });
  assert.equal(parseKvCacheLine(["info: nothing here"]), null);
});

test("bytes per cache type: ggml block sizes, checked against sizes llama.cpp logged", () => {
  const geometry = { layers: 22, keyWidth: 256, valueWidth: 256 };
  // f16: 256 cells x 22 layers x 512 values x 2 bytes = 5 767 168 bytes = 5.50 MiB (the log above)
  assert.equal(kvBytesForTokens(geometry, "f16", 256), 5_767_168);
  assert.equal(kvBytesForTokens(geometry, "f32", 1), 22 * 512 * 4);
  // q8_0: 34 bytes per 32 values -> 512 values = 16 blocks = 544 bytes per layer and token
  assert.equal(kvBytesForTokens(geometry, "q8_0", 1), 22 * 544);
  // q4_0 on the 2-layer shallow model: llama.cpp logged 2.39 MiB for 4352 cells; 4352 x 2 x 16 blocks x 18 bytes
  const shallow = { layers: 2, keyWidth: 256, valueWidth: 256 };
  assert.equal(kvBytesForTokens(shallow, "q4_0", 4352), 2_506_752);
  const logged = { totalMiB: 2.39, cells: 4352, layers: 2, keyType: "q4_0", valueType: "q4_0" };
  assert.equal(checkKvLine(logged, shallow, "q4_0"), null);
});

test("a KV line of another type or size is reported, not accepted", () => {
  const geometry = { layers: 22, keyWidth: 256, valueWidth: 256 };
  const line = parseKvCacheLine(TINYLLAMA_LOG)!;
  assert.match(checkKvLine(line, geometry, "q4_0") ?? "", /K f16 \/ V f16 cache, not q4_0/);
  assert.match(checkKvLine({ ...line, totalMiB: 6.5 }, geometry, "f16") ?? "", /logged KV size 6.5 MiB/);
});

test("perf counters: the last eval line wins, and prints are counted", () => {
  const logs = [
    "info: llama_perf_context_print: prompt eval time =       0.71 ms /     3 tokens (    0.24 ms per token,  4231.31 tokens per second)",
    "info: llama_perf_context_print:        eval time =      14.36 ms /   100 runs   (    0.14 ms per token,  6965.73 tokens per second)",
    "info: llama_perf_context_print:        eval time =      30.00 ms /   164 runs   (    0.18 ms per token,  5466.67 tokens per second)",
  ];
  assert.deepEqual(lastEvalCounters(logs), { milliseconds: 30, runs: 164 });
  assert.equal(evalLineCount(logs), 2);
  assert.equal(lastEvalCounters(logs.slice(0, 1)), null);
});

test("error lines are collected without their level", () => {
  const logs = ["warn: something", "error: llama_init_from_model: K cache type q4_0 with block size 32 does not divide n_embd_head_k=8"];
  assert.deepEqual(errorLines(logs), ["llama_init_from_model: K cache type q4_0 with block size 32 does not divide n_embd_head_k=8"]);
});

test("waitForLogs sees a line that arrives later, and gives up after its timeout", async () => {
  const logs: string[] = [];
  setTimeout(() => logs.push("info: late line"), 10);
  assert.equal(await waitForLogs(logs, (l) => l.length > 0, 2000), true);
  assert.equal(await waitForLogs(logs, (l) => l.length > 5, 20), false);
});
