/**
 * Locating the read-only shared material (../shared next to the project root) from compiled tests, and temporary
 * directories for files the tests write. Tests that need shared files skip with `missingSharedReason` when absent.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sharedSkip } from "../support/sharedPolicy.js";

// dist/test/format/<file>.js -> ../../.. is the project root.
const projectRoot = fileURLToPath(new URL("../../../", import.meta.url));
const sharedDir = join(projectRoot, "..", "shared");
const modelDir = join(sharedDir, "models", "stories260K");

// the checkpoint and tokenizer are bundled (models/stories260K, identical to the shared copies); the GGUF converted
// by llama.cpp's tools and the golden file are only in ../shared
export const stories260KBinPath = join(projectRoot, "models", "stories260K", "stories260K.bin");
export const stories260KGgufPath = join(modelDir, "stories260K.f32.gguf");
export const tok512Path = join(projectRoot, "models", "stories260K", "tok512.bin");
export const goldenPath = join(sharedDir, "golden", "stories260K.json");

/** node:test's `skip` for tests needing the shared GGUF or golden file (see test/support/sharedPolicy.ts). */
export const missingSharedReason: string | false = sharedSkip(
  [stories260KGgufPath, goldenPath].every(existsSync),
  `shared stories260K GGUF/golden files under ${sharedDir}`,
);

/** The model header as the independent reference implementation recorded it. */
export interface GoldenConfig {
  readonly dim: number;
  readonly hidden: number;
  readonly n_layers: number;
  readonly n_heads: number;
  readonly n_kv_heads: number;
  readonly vocab: number;
  readonly seq_len: number;
  readonly shared: boolean;
}

export function readGoldenConfig(): GoldenConfig {
  return (JSON.parse(readFileSync(goldenPath, "utf8")) as { config: GoldenConfig }).config;
}

/** Runs `body` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), "qaq-format-"));
  try {
    return await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
