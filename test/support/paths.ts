import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { sharedSkip } from "./sharedPolicy.js";

/** The project root (dist/test/support/paths.js -> ../../..) and the read-only shared folder beside it. */
export const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const SHARED = join(PROJECT_ROOT, "..", "shared");
export const SHARED_PRESENT = existsSync(join(SHARED, "golden", "stories260K.json"));
/** Tests needing ../shared run (and fail) when it is absent, unless QAQ_SKIP_SHARED=1 (see sharedPolicy.ts). */
export const SKIP_SHARED = sharedSkip(SHARED_PRESENT, `../shared (expected at ${SHARED})`);

export const BUNDLED_MODEL = join(PROJECT_ROOT, "models", "stories260K", "stories260K.bin");
export const BUNDLED_TOKENIZER = join(PROJECT_ROOT, "models", "stories260K", "tok512.bin");
export const SHARED_GGUF = join(SHARED, "models", "stories260K", "stories260K.f32.gguf");
export const GOLDEN_PATH = join(SHARED, "golden", "stories260K.json");
export const TINYSTORIES = join(SHARED, "data", "tinystories", "tinystories_val_head.txt");

/** student64: head size 64, the model for memory and fidelity claims (stories260K's tokenizer). */
export const STUDENT64_MODEL = join(SHARED, "models", "student64", "student64.bin");
export const STUDENT64_TOKENIZER = join(SHARED, "models", "stories260K", "tok512.bin");
export const STUDENT64_GOLDEN = join(SHARED, "golden", "student64.json");
export const SKIP_STUDENT64 = [STUDENT64_MODEL, STUDENT64_TOKENIZER, STUDENT64_GOLDEN].every(existsSync)
  ? false
  : `../shared/models/student64 is absent (expected at ${SHARED})`;
