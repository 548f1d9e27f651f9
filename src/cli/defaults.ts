import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";

/** The bundled default model (stories260K, MIT, Karpathy): used when no --model is given. */
export const DEFAULT_MODEL = fileURLToPath(new URL("../../../models/stories260K/stories260K.bin", import.meta.url));
export const DEFAULT_TOKENIZER = fileURLToPath(new URL("../../../models/stories260K/tok512.bin", import.meta.url));
/** Most threads the default picks: the main thread plus one worker (this project's reference machine has 2 cores). */
export const DEFAULT_THREADS = 2;
/**
 * Below this model file size the default is one thread: a decode step of such a model is a few hundred
 * microseconds of many small kernels, where handing slices to a worker costs more than it saves (stories260K, 1 MB:
 * one thread decodes ~1.4x faster, docs/PERFORMANCE.md); from here on the matvecs are large enough to split.
 */
export const SMALL_MODEL_BYTES = 16 * 2 ** 20;
/** The --threads help text for the per-model default. */
export const DEFAULT_THREADS_TEXT = `auto: 1 for a model file under ${SMALL_MODEL_BYTES / 2 ** 20} MiB, else ${DEFAULT_THREADS}`;

/** The default thread count for a model file: 1 for a small model, else min(DEFAULT_THREADS, cores). */
export function defaultThreads(modelPath: string): number {
  let bytes: number;
  try {
    bytes = statSync(modelPath).size;
  } catch {
    return 1; // the load reports the missing file; the thread count no longer matters
  }
  return bytes < SMALL_MODEL_BYTES ? 1 : Math.max(1, Math.min(DEFAULT_THREADS, availableParallelism()));
}
