import { UnsupportedError } from "../../util/errors.js";
import type { BenchJob, JobMeasurement, PeerKvType } from "./job.js";
import { importLlamaCpp, type ControlledInput, type LlamaCacheTypeName } from "./llamaCppApi.js";
import {
  checkKvLine,
  errorLines,
  evalLineCount,
  kvBytesForTokens,
  kvGeometryFromLogs,
  lastEvalCounters,
  parseKvCacheLine,
  printInfoInteger,
  waitForLogs,
} from "./llamaCppLog.js";
import { runSweep, sweepCapacity, type SessionUnderTest } from "./sweep.js";

type PeerJob = Extract<BenchJob, { engine: "llama.cpp" }>;

const CACHE_TYPE_NAMES: Readonly<Record<PeerKvType, LlamaCacheTypeName>> = {
  f32: "F32",
  f16: "F16",
  q8_0: "Q8_0",
  q4_0: "Q4_0",
};

/** Longest wait for a log line llama.cpp has already written to reach the logger. */
const LOG_WAIT_MS = 2000;
/** print_info lines the runner reads (the KV geometry and the vocabulary size). */
const REQUIRED_INFO = ["n_layer", "n_embd_k_gqa", "n_embd_v_gqa", "n_vocab"];

/**
 * Runs one job on llama.cpp through node-llama-cpp: CPU only, the prebuilt binary (never a build or a download),
 * the file memory-mapped, flash attention on (llama.cpp needs it for a quantized V cache; it is on for every type
 * so that all types run the same attention path), the thread count pinned (ideal = min = threads).
 */
export async function measureLlamaCpp(job: PeerJob): Promise<JobMeasurement> {
  const peer = await importLlamaCpp(job.peerDir);
  // every llama.cpp log line, "level: message" (the KV size, print_info and perf lines are read back from here)
  const logs: string[] = [];
  const llama = await peer.module.getLlama({
    gpu: false,
    build: "never",
    usePrebuiltBinaries: true,
    skipDownload: true,
    progressLogs: false,
    logLevel: "info",
    logger: (level, message) => logs.push(`${level}: ${message.trimEnd()}`),
    maxThreads: job.threads,
  });
  try {
    const model = await llama.loadModel({ modelPath: job.model.path, gpuLayers: 0, useMmap: true });
    const typeName = CACHE_TYPE_NAMES[job.cache];
    const context = await model
      .createContext({
        contextSize: sweepCapacity(job.sweep),
        threads: { ideal: job.threads, min: job.threads },
        flashAttention: true,
        experimentalKvCacheKeyType: typeName,
        experimentalKvCacheValueType: typeName,
        performanceTracking: true,
        failedCreationRemedy: false,
        ignoreMemorySafetyChecks: true,
      })
      .catch((error: unknown) => {
        const why = errorLines(logs);
        throw new UnsupportedError(`llama.cpp could not create a ${job.cache} KV cache: ${why.length > 0 ? why.at(-1) : String(error)}`);
      });
    await waitForLogs(logs, (l) => parseKvCacheLine(l) !== null && REQUIRED_INFO.every((key) => printInfoInteger(l, key) !== null), LOG_WAIT_MS);
    const geometry = kvGeometryFromLogs(logs);
    const kvLine = parseKvCacheLine(logs);
    if (kvLine === null) throw new UnsupportedError("llama.cpp logged no llama_kv_cache size line");
    const problem = checkKvLine(kvLine, geometry, job.cache);
    if (problem !== null) throw new UnsupportedError(problem);

    const sequence = context.getSequence();
    const vocabSize = vocabularySize(logs);
    let heldTokens = 0;
    const session: SessionUnderTest = {
      vocabSize,
      reset: async () => {
        await sequence.clearHistory();
        heldTokens = 0;
      },
      feed: async (tokens, pos) => {
        const input: ControlledInput[] = Array.from(tokens);
        input[input.length - 1] = [tokens[tokens.length - 1]!, { generateNext: { token: true, options: { temperature: 0 } } }];
        const output = await sequence.controlledEvaluate(input);
        heldTokens = pos + tokens.length;
        return output[tokens.length - 1]?.next?.token ?? -1;
      },
      kvBytes: () => kvBytesForTokens(geometry, job.cache, heldTokens),
      evalCounters: async () => {
        const printed = evalLineCount(logs);
        await context.printTimings();
        const arrived = await waitForLogs(logs, (l) => evalLineCount(l) > printed, LOG_WAIT_MS);
        return arrived ? lastEvalCounters(logs) : null;
      },
    };
    const sweep = await runSweep(session, job.sweep);
    const measurement: JobMeasurement = {
      ...sweep,
      kv: {
        source:
          `llama.cpp log: ${kvLine.totalMiB} MiB for ${kvLine.cells} cells (K ${kvLine.keyType}, V ${kvLine.valueType}); ` +
          "bytes for the tokens held = cells x the type's bytes per value (agrees with the log)",
        allocatedBytes: kvBytesForTokens(geometry, job.cache, kvLine.cells),
        backingBytes: 0,
      },
      threadsUsed: context.currentThreads,
      engineVersion: `node-llama-cpp ${peer.version}`,
    };
    await context.dispose();
    await model.dispose();
    return measurement;
  } finally {
    await llama.dispose();
  }
}

function vocabularySize(logs: readonly string[]): number {
  const vocab = printInfoInteger(logs, "n_vocab");
  if (vocab === null) throw new UnsupportedError("llama.cpp's log has no print_info n_vocab line");
  return vocab;
}
