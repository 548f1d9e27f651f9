import { loadavg } from "node:os";
import { Compute } from "../../kernels/Compute.js";
import { readGgufHeader } from "../../platform/node/readGgufHeader.js";
import { tensorByteSize, tensorTypeFromGgmlId } from "../../format/gguf/ggmlTypes.js";
import { UsageError } from "../../util/errors.js";
import { measureReadBandwidth } from "../bandwidth.js";
import { TINYLLAMA_SHAPE, syntheticModelPath } from "../syntheticModels.js";
import { emit, median } from "../timing.js";
import type { BenchJob, BenchModel, JobRecord, SweepShape } from "./job.js";
import { jsonLine } from "./jsonLine.js";
import { ensurePeerInstalled, peerDirectory } from "./peerInstall.js";
import { runJob } from "./runJob.js";

/**
 * `node dist/src/bench/peer/kquantSpeed.js [--type q4_k_m] [--threads 1,2] [--rounds 3]`: issue 14's speed targets
 * on the TinyLlama-1.1B shape (22 x 2048, FFN 5632, 32/4 heads, vocab 32000; random weights, written once into the
 * temp folder), self-contained and quick to rerun on a quieter machine. Per thread count T (the SAME T for both
 * engines), `rounds` rounds, each running this engine (fp16 KV cache) and llama.cpp (node-llama-cpp, f16 KV cache)
 * one after the other in fresh processes, the order alternating round by round, with bench:peer's protocol: prefill
 * of 128 tokens from empty (median of 3), then decode at L=128 (16 steps, median of 3). Per round: the ratios ours /
 * llama.cpp of decode and prefill tokens/s and of peak RSS, and the machine's load average. Per T: the read-only
 * memory bandwidth of this machine measured by a wasm kernel over a buffer the size of the bytes a decode step reads
 * (every matrix but the token embedding, a lookup), and ours' decode as a fraction of that bound. JSON lines on
 * stdout; a summary line per T with the medians.
 */
const SWEEP: SweepShape = { prefillTokens: 128, contexts: [128], decodeSteps: 16, repeats: 3 };
const JOB_TIMEOUT_SECONDS = 1800;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: string): string => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
  };
  const type = flag("type", "q4_k_m");
  if (type !== "q4_k_m" && type !== "q8_0" && type !== "q4_k" && type !== "q5_k_m" && type !== "q6_k") {
    throw new UsageError(`kquantSpeed: --type ${type}: use q4_k_m, q5_k_m, q4_k, q6_k or q8_0`);
  }
  const threadCounts = flag("threads", "1,2").split(",").map(Number);
  const rounds = Number(flag("rounds", "3"));
  if (threadCounts.some((t) => !Number.isInteger(t) || t < 1) || !Number.isInteger(rounds) || rounds < 1) {
    throw new UsageError("kquantSpeed: --threads takes positive integers (1,2), --rounds a positive integer");
  }
  const path = await syntheticModelPath("tinyllama-shape", TINYLLAMA_SHAPE, type);
  const model: BenchModel = { label: `TinyLlama-shape ${type}`, weightType: type, path };
  const bytesPerToken = await decodeWeightBytes(path);
  const peerDir = ensurePeerInstalled(peerDirectory()).dir;
  for (const threads of threadCounts) {
    const compute = await Compute.create(threads);
    let readBytesPerSecond: number;
    try {
      readBytesPerSecond = measureReadBandwidth(compute, bytesPerToken);
    } finally {
      compute.dispose();
    }
    const boundTokensPerSecond = readBytesPerSecond / bytesPerToken;
    emit({ bench: "kquantSpeed", model: model.label, threads, decodeWeightBytes: bytesPerToken, readGigabytesPerSecond: round(readBytesPerSecond / 1e9), boundTokensPerSecond: round(boundTokensPerSecond), loadAverage: round(loadavg()[0]!) });
    const ratios: { decode: number; prefill: number; rss: number; ofBound: number }[] = [];
    for (let r = 0; r < rounds; r++) {
      const ours: BenchJob = { engine: "qaq", model, cache: "fp16", threads, sweep: SWEEP };
      const theirs: BenchJob = { engine: "llama.cpp", model, cache: "f16", threads, sweep: SWEEP, peerDir };
      const order = r % 2 === 0 ? [ours, theirs] : [theirs, ours];
      const records: JobRecord[] = [];
      for (const job of order) {
        process.stderr.write(`kquantSpeed: ${model.label} ${job.engine} threads=${threads} round ${r + 1}/${rounds} ...\n`);
        const record = await runJob(job, JOB_TIMEOUT_SECONDS, []);
        emit(jsonLine("kquant", `round ${r + 1}`, record));
        records.push(record);
      }
      const [a, b] = [records.find((x) => x.job.engine === "qaq")!, records.find((x) => x.job.engine === "llama.cpp")!];
      if (!a.outcome.ok || !b.outcome.ok) continue;
      const decode = (x: typeof a.outcome & { ok: true }) => x.measurement.points.at(-1)!.decodeTokensPerSecond;
      const ratio = {
        decode: decode(a.outcome) / decode(b.outcome),
        prefill: a.outcome.measurement.prefillTokensPerSecond / b.outcome.measurement.prefillTokensPerSecond,
        rss: a.outcome.peakRssBytes / b.outcome.peakRssBytes,
        ofBound: decode(a.outcome) / boundTokensPerSecond,
      };
      ratios.push(ratio);
      emit({ bench: "kquantSpeed", model: model.label, threads, round: r + 1, oursFirst: r % 2 === 0, decodeRatio: round(ratio.decode), prefillRatio: round(ratio.prefill), peakRssRatio: round(ratio.rss), decodeFractionOfReadBound: round(ratio.ofBound), loadAverage: round(a.loadAverage) });
    }
    if (ratios.length === 0) continue;
    emit({
      bench: "kquantSpeed", summary: true, model: model.label, threads, rounds: ratios.length,
      medianDecodeRatio: round(median(ratios.map((x) => x.decode))), medianPrefillRatio: round(median(ratios.map((x) => x.prefill))),
      medianPeakRssRatio: round(median(ratios.map((x) => x.rss))), medianDecodeFractionOfReadBound: round(median(ratios.map((x) => x.ofBound))),
      targets: { decodeRatio: 0.9, prefillRatio: 0.5, peakRssRatio: 1.1, decodeFractionOfReadBound: 0.8 },
    });
  }
}

/**
 * Bytes of weights one decode step reads: every tensor but the token embedding (one row of it is looked up), unless
 * the classifier is tied to it (no output.weight), when it is read whole.
 */
async function decodeWeightBytes(path: string): Promise<number> {
  const header = await readGgufHeader(path);
  const tied = !header.tensorInfos.some((info) => info.name === "output.weight");
  let bytes = 0;
  for (const info of header.tensorInfos) {
    const type = tensorTypeFromGgmlId(info.typeId);
    if (type === undefined) throw new UsageError(`kquantSpeed: ${path}: tensor ${info.name} has a type this engine does not read`);
    if (info.name !== "token_embd.weight" || tied) bytes += tensorByteSize(type, info.shape);
  }
  return bytes;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

main().catch((error: unknown) => {
  process.stderr.write(`kquantSpeed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
