/**
 * Locating the read-only shared material (../shared next to the project root) from compiled tests, and the parts of
 * the stories260K golden file the tokenizer tests use. Tests skip with `missingSharedReason` when it is absent.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sharedSkip } from "../support/sharedPolicy.js";

// dist/test/tokenizer/<file>.js -> ../../.. is the project root.
const projectRoot = fileURLToPath(new URL("../../../", import.meta.url));
const sharedDir = join(projectRoot, "..", "shared");

/** bundled in models/ (identical to the shared copy) */
export const tok512Path = join(projectRoot, "models", "stories260K", "tok512.bin");
export const goldenPath = join(sharedDir, "golden", "stories260K.json");
export const tinyStoriesPath = join(sharedDir, "data", "tinystories", "tinystories_val_head.txt");

/** node:test's `skip` for tests needing the golden file or data (see test/support/sharedPolicy.ts). */
export const missingSharedReason: string | false = sharedSkip(
  existsSync(goldenPath) && existsSync(tinyStoriesPath),
  `shared golden/data files under ${sharedDir}`,
);

export interface TokenizerGolden {
  readonly tokenize: readonly { readonly text: string; readonly ids: readonly number[] }[];
  readonly greedy_from_bos: { readonly ids: readonly number[]; readonly text: string };
  readonly greedy_from_prompt: {
    readonly prompt: string;
    readonly prompt_ids: readonly number[];
    readonly ids: readonly number[];
    readonly continuation: string;
  };
}

export function readGolden(): TokenizerGolden {
  return JSON.parse(readFileSync(goldenPath, "utf8")) as TokenizerGolden;
}
