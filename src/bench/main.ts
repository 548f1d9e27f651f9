import { benchEngine } from "./engineBench.js";
import { benchAttention } from "./attentionBench.js";
import { benchQaqOverhead } from "./qaqOverheadBench.js";
import { benchThreads } from "./threadsBench.js";
import { benchQaqStep } from "./qaqStepBench.js";
import { benchRotation } from "./rotationBench.js";
import { benchBatchDecode } from "./batchDecodeBench.js";
import { benchKvBudgetFit } from "./kvBudgetFitBench.js";
import { benchServeLoad } from "./serveLoadBench.js";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SHALLOW_LONG_SHAPE, TINYLLAMA_SHAPE, syntheticModelPath } from "./syntheticModels.js";
import { DEFAULT_MODEL, DEFAULT_TOKENIZER } from "../cli/defaults.js";

/**
 * `npm run bench [-- suite ...]`: JSON lines on stdout, progress on stderr. Suites: engine (prefill/decode against
 * the bandwidth bound), attention (per-cache attention time per decode step at 1K..32K tokens),
 * qaq (QAQ's streaming overhead per decode step at 512 tokens on stories260K), qaqstep (a QAQ decode step's split into
 * attention, window and plan at 8K and 16K tokens, TinyLlama KV shape, through the cache seam; QAQ_STEP_LENGTHS and
 * QAQ_STEP_THREADS override the lengths and thread counts), threads (decode at 2 threads over 1
 * thread, with and without a competing busy process, on the bundled and the benchmark models), rotation (what rotate=hadamard costs per decode
 * step on student64, head size 64, when ../shared has it), batch (aggregate decode speed of 1, 2, 4
 * and 8 concurrent streams, batched into shared passes or taking turns, on stories260K and student64), budget (how many
 * 512-token conversations fit in an 8 MiB --kv-budget per cache, and their perplexity), serve-load (8 streaming clients,
 * 200 requests, a quarter cancelled mid-stream). With no argument every suite runs.
 */
const SUITES: Readonly<Record<string, () => Promise<void>>> = {
  engine: async () => {
    for (const threads of [1, 2]) await benchEngine("stories260K", DEFAULT_MODEL, DEFAULT_TOKENIZER, threads, 256, 255);
    const tiny = await syntheticModelPath("tinyllama-shape", TINYLLAMA_SHAPE, "q8_0");
    for (const threads of [1, 2]) await benchEngine("synthetic TinyLlama-1.1B shape", tiny, undefined, threads, 64, 16);
    const tinyK = await syntheticModelPath("tinyllama-shape", TINYLLAMA_SHAPE, "q4_k_m");
    for (const threads of [1, 2]) await benchEngine("synthetic TinyLlama-1.1B shape", tinyK, undefined, threads, 64, 16);
    void SHALLOW_LONG_SHAPE;
  },
  qaq: async () => {
    const specs = ["qaq:group=head", "qaq:group=layer", "qaq:group=layer,backing=file", "qaq:group=layer,backing=none", "uniform:k=4,v=2", "kivi:bits=2"];
    await benchQaqOverhead(DEFAULT_MODEL, DEFAULT_TOKENIZER, specs, 512, 1);
  },
  qaqstep: async () => {
    const lengths = (process.env["QAQ_STEP_LENGTHS"] ?? "8192,16384").split(",").map(Number);
    const threads = (process.env["QAQ_STEP_THREADS"] ?? "1,2").split(",").map(Number);
    for (const n of threads) await benchQaqStep(QAQ_STEP_SPECS, lengths, 12, n);
  },
  threads: async () => {
    await benchThreads("stories260K", DEFAULT_MODEL, DEFAULT_TOKENIZER, 128, 128, 7);
    const shallow = await syntheticModelPath("shallow-long", SHALLOW_LONG_SHAPE, "q8_0");
    await benchThreads("synthetic shallow-long (TinyLlama KV shape, 2 layers) q8_0", shallow, undefined, 512, 8, 5);
    const tiny = await syntheticModelPath("tinyllama-shape", TINYLLAMA_SHAPE, "q8_0");
    await benchThreads("synthetic TinyLlama-1.1B shape q8_0", tiny, undefined, 32, 4, 3);
  },
  rotation: async () => {
    const model = "../shared/models/student64/student64.bin";
    if (!existsSync(model)) return void process.stderr.write("rotation: ../shared/models/student64 not found, skipped\n");
    await benchRotation(model, "../shared/models/stories260K/tok512.bin", ["uniform:bits=4", "kivi:bits=2", "qaq"], 512, 1);
  },
  batch: async () => {
    const streams = [1, 2, 4, 8];
    // one thread: on a shared machine a second thread's spin barrier waits for whichever core is free, which swamps
    // the figure; the products batched here are the same either way
    for (const kv of ["fp32", "qaq"]) await benchBatchDecode("stories260K", DEFAULT_MODEL, DEFAULT_TOKENIZER, 1, kv, streams, 64, 5);
    if (!existsSync(STUDENT64)) process.stderr.write(`bench batch: ${STUDENT64} is absent, student64 skipped\n`);
    else for (const kv of ["fp32", "qaq"]) await benchBatchDecode("student64", STUDENT64, DEFAULT_TOKENIZER, 1, kv, streams, 64, 5);
  },
  budget: async () => {
    const text = fileURLToPath(new URL("../../../../shared/data/tinystories/tinystories_val_head.txt", import.meta.url));
    const specs = ["fp16", "blockq:q4_0", "kivi:bits=4", "kivi:bits=2"];
    await benchKvBudgetFit("stories260K", DEFAULT_MODEL, DEFAULT_TOKENIZER, text, 8 << 20, 512, 4096, specs);
    if (existsSync(STUDENT64)) await benchKvBudgetFit("student64", STUDENT64, DEFAULT_TOKENIZER, text, 8 << 20, 512, 4096, specs);
  },
  "serve-load": async () => {
    const requests = Number(process.env.QAQ_LOAD_REQUESTS ?? 200);
    for (const kv of ["fp16", "qaq"]) await benchServeLoad("stories260K", DEFAULT_MODEL, DEFAULT_TOKENIZER, kv, 8, requests, 64);
  },
  attention: async () => {
    for (const threads of [1, 2]) await benchAttention(ATTENTION_SPECS, [1024, 2048, 4096, 8192, 16384, 32768], threads);
  },
};

/** The caches of the qaqstep suite (each against fp32 in the same run). */
const QAQ_STEP_SPECS = ["qaq", "qaq:outliers=0", "uniform:k=4,v=2,outliers=0.01", "uniform:k=4,v=2"];
/** student64 (head size 64, GQA; stories260K's tokenizer), from the shared folder beside the project. */
const STUDENT64 = fileURLToPath(new URL("../../../../shared/models/student64/student64.bin", import.meta.url));

/** The caches compared by the attention suite. */
const ATTENTION_SPECS = ["fp32", "fp16", "uniform:bits=8", "uniform:bits=4", "uniform:bits=2", "uniform:k=4,v=2,outliers=0.01", "kivi:bits=4", "kivi:bits=2", "blockq:q8_0", "blockq:q4_0"];

const wanted = process.argv.slice(2);
for (const name of wanted.length > 0 ? wanted : Object.keys(SUITES)) {
  const suite = SUITES[name];
  if (!suite) {
    process.stderr.write(`bench: unknown suite "${name}"; suites: ${Object.keys(SUITES).join(", ")}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench: ${name}\n`);
  await suite();
}
