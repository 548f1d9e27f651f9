/**
 * Locating the read-only shared material (../shared next to the project root) from compiled tests, and the parts of
 * the stories260K golden file the tokenizer tests use. Tests skip with `missingSharedReason` when it is absent.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// dist/test/tokenizer/<file>.js -> ../../.. is the project root.
const projectRoot = fileURLToPath(new URL("../../../", import.meta.url));
const sharedDir = join(projectRoot, "..", "shared");

export const tok512Path = join(sharedDir, "models", "stories260K", "tok512.bin");
export const goldenPath = join(sharedDir, "golden", "stories260K.json");
export const tinyStoriesPath = join(sharedDir, "data", "tinystories", "tinystories_val_head.txt");

/** A skip reason when the shared files are not there, false otherwise (for node:test's `skip` option). */
export const missingSharedReason: string | false =
  existsSync(tok512Path) && existsSync(goldenPath) && existsSync(tinyStoriesPath)
    ? false
    : `shared model/golden files not found under ${sharedDir}`;

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
