import type { PeerKvType } from "./job.js";
import type { EvalCounters } from "./sweep.js";

/**
 * What llama.cpp tells about itself in its log lines (captured through node-llama-cpp's logger), read back:
 *   llama_kv_cache: size =    5.50 MiB (   256 cells,  22 layers,  1/1 seqs), K (f16):    2.75 MiB, V (f16):    2.75 MiB
 *   llama_perf_context_print:        eval time =      14.36 ms /   100 runs   (    0.14 ms per token, ...)
 * The KV line gives sizes in MiB to two decimals, so the exact bytes come from the cache type's size per value
 * (ggml: f32 4 bytes, f16 2, q8_0 34 per block of 32, q4_0 18 per block of 32), checked against the logged total.
 */
export interface KvCacheLogLine {
  readonly totalMiB: number;
  readonly cells: number;
  readonly layers: number;
  readonly keyType: string;
  readonly valueType: string;
}

/** From the model's metadata: layers, and keys / values per token per layer (KV heads x head size). */
export interface KvGeometry {
  readonly layers: number;
  readonly keyWidth: number;
  readonly valueWidth: number;
}

const BYTES_PER_VALUE: Readonly<Record<PeerKvType, number>> = {
  f32: 4,
  f16: 2,
  q8_0: 34 / 32,
  q4_0: 18 / 32,
};

const KV_LINE = /llama_kv_cache: size =\s*([\d.]+) MiB \(\s*(\d+) cells,\s*(\d+) layers.*?K \((\w+)\):\s*[\d.]+ MiB, V \((\w+)\)/;
const EVAL_LINE = /llama_perf_context_print:\s+eval time =\s*([\d.]+) ms \/\s*(\d+) runs/;

export function parseKvCacheLine(logs: readonly string[]): KvCacheLogLine | null {
  for (let i = logs.length - 1; i >= 0; i--) {
    const m = KV_LINE.exec(logs[i]!);
    if (m) return { totalMiB: Number(m[1]), cells: Number(m[2]), layers: Number(m[3]), keyType: m[4]!, valueType: m[5]! };
  }
  return null;
}

/** Bytes `tokens` cells take in a cache whose keys and values are both of `type`. */
export function kvBytesForTokens(geometry: KvGeometry, type: PeerKvType, tokens: number): number {
  const perValue = BYTES_PER_VALUE[type];
  return Math.round(tokens * geometry.layers * (geometry.keyWidth + geometry.valueWidth) * perValue);
}

/**
 * Checks that the logged KV line is the cache that was asked for: its types, and its total within the rounding of
 * three two-decimal MiB figures. Returns a null problem when it agrees.
 */
export function checkKvLine(line: KvCacheLogLine, geometry: KvGeometry, type: PeerKvType): string | null {
  if (line.keyType !== type || line.valueType !== type) return `llama.cpp made a K ${line.keyType} / V ${line.valueType} cache, not ${type}`;
  const computedMiB = kvBytesForTokens(geometry, type, line.cells) / 2 ** 20;
  if (Math.abs(computedMiB - line.totalMiB) > 0.011) {
    return `logged KV size ${line.totalMiB} MiB for ${line.cells} cells, computed ${computedMiB.toFixed(3)} MiB from the type`;
  }
  return null;
}

/** llama.cpp's cumulative decode counters from the last perf print, or null if none was logged. */
export function lastEvalCounters(logs: readonly string[]): EvalCounters | null {
  for (let i = logs.length - 1; i >= 0; i--) {
    const m = EVAL_LINE.exec(logs[i]!);
    if (m) return { milliseconds: Number(m[1]), runs: Number(m[2]) };
  }
  return null;
}

/** How many perf prints with an eval line were logged (to tell a new one from the last). */
export function evalLineCount(logs: readonly string[]): number {
  return logs.reduce((n, line) => n + (EVAL_LINE.test(line) ? 1 : 0), 0);
}

/**
 * Waits until `ready(logs)` holds: llama.cpp's log lines reach JavaScript asynchronously (a thread-safe callback),
 * so a line may arrive after the call that caused it has resolved. False if it still does not hold after `timeoutMs`.
 */
export async function waitForLogs(logs: readonly string[], ready: (logs: readonly string[]) => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!ready(logs)) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return true;
}

/** The error lines llama.cpp logged, for a failure message that says why. */
export function errorLines(logs: readonly string[]): string[] {
  return logs.filter((line) => line.startsWith("error:")).map((line) => line.slice("error:".length).trim());
}
