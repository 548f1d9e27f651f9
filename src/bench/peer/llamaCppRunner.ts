import { FileFormatError, UnsupportedError } from "../../util/errors.js";
import type { BenchJob, JobMeasurement, PeerKvType } from "./job.js";
import { importLlamaCpp, type ControlledInput, type GgufMetadataView, type LlamaCacheTypeName } from "./llamaCppApi.js";
import {
  checkKvLine,
  errorLines,
  evalLineCount,
  kvBytesForTokens,
  lastEvalCounters,
  parseKvCacheLine,
  waitForLogs,
  type KvGeometry,
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

/**
 * Runs one job on llama.cpp through node-llama-cpp: CPU only, the prebuilt binary (never a build or a download),
 * the file memory-mapped, flash attention on (llama.cpp needs it for a quantized V cache; it is on for every type
 * so that all types run the same attention path), the thread count pinned (ideal = min = threads).
 */
export async function measureLlamaCpp(job: PeerJob): Promise<JobMeasurement> {
  const peer = await importLlamaCpp(job.peerDir);
  // every llama.cpp log line, "level: line" (the KV size, print_info and perf lines are read back from here); one
  // logger call may carry several lines, so they are split here
  const logs: string[] = [];
  const llama = await peer.module.getLlama({
    gpu: false,
    build: "never",
    usePrebuiltBinaries: true,
    skipDownload: true,
    progressLogs: false,
    logLevel: "info",
    logger: (level, message) => {
      for (const line of message.split("\n")) if (line.trim() !== "") logs.push(`${level}: ${line.trimEnd()}`);
    },
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
    // the geometry from the file's metadata as node-llama-cpp parsed it; llama.cpp's KV size log line cross-checks it
    const { geometry, vocabSize } = modelGeometry(model.fileInfo.metadata, job.model.path);
    await waitForLogs(logs, (l) => parseKvCacheLine(l) !== null, LOG_WAIT_MS);
    const kvLine = parseKvCacheLine(logs);
    if (kvLine !== null) {
      const problem = checkKvLine(kvLine, geometry, job.cache);
      if (problem !== null) throw new UnsupportedError(problem);
    }
    const sequence = context.getSequence();
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
          (kvLine !== null
            ? `llama.cpp log: ${kvLine.totalMiB} MiB for ${kvLine.cells} cells (K ${kvLine.keyType}, V ${kvLine.valueType}); `
            : "llama.cpp's KV size log line did not arrive; ") +
          "bytes for the tokens held = tokens x layers x KV width x the type's bytes per value",
        allocatedBytes: kvBytesForTokens(geometry, job.cache, kvLine?.cells ?? context.contextSize),
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

/** KV geometry and vocabulary size of a llama GGUF from its metadata (llama.* keys, tokenizer.ggml.tokens). */
function modelGeometry(metadata: GgufMetadataView, path: string): { geometry: KvGeometry; vocabSize: number } {
  const llama = metadata.llama;
  const tokens = metadata.tokenizer?.ggml?.tokens;
  const heads = llama?.attention?.head_count;
  const kvHeads = llama?.attention?.head_count_kv ?? heads;
  if (!llama || heads === undefined || kvHeads === undefined || tokens === undefined) {
    throw new FileFormatError(path, "node-llama-cpp found no llama.* attention metadata or tokenizer.ggml.tokens");
  }
  const width = (llama.embedding_length / heads) * kvHeads;
  return { geometry: { layers: llama.block_count, keyWidth: width, valueWidth: width }, vocabSize: tokens.length };
}
