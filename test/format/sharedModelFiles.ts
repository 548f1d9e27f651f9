/**
 * Locating the read-only shared material (../shared next to the project root) from compiled tests, and temporary
 * directories for files the tests write. Tests that need shared files skip with `missingSharedReason` when absent.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// dist/test/format/<file>.js -> ../../.. is the project root.
const projectRoot = fileURLToPath(new URL("../../../", import.meta.url));
const sharedDir = join(projectRoot, "..", "shared");
const modelDir = join(sharedDir, "models", "stories260K");

export const stories260KBinPath = join(modelDir, "stories260K.bin");
export const stories260KGgufPath = join(modelDir, "stories260K.f32.gguf");
export const tok512Path = join(modelDir, "tok512.bin");
export const goldenPath = join(sharedDir, "golden", "stories260K.json");

/** A skip reason when the shared files are not there, false otherwise (for node:test's `skip` option). */
export const missingSharedReason: string | false = [stories260KBinPath, stories260KGgufPath, tok512Path, goldenPath].every(existsSync)
  ? false
  : `shared stories260K model/golden files not found under ${sharedDir}`;

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
