import { fileURLToPath } from "node:url";

/** The bundled default model (stories260K, MIT, Karpathy): used when no --model is given. */
export const DEFAULT_MODEL = fileURLToPath(new URL("../../../models/stories260K/stories260K.bin", import.meta.url));
export const DEFAULT_TOKENIZER = fileURLToPath(new URL("../../../models/stories260K/tok512.bin", import.meta.url));
/** Threads: the main thread plus one worker, which is this machine's 2 cores. */
export const DEFAULT_THREADS = 2;
