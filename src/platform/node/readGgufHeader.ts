/**
 * Reads only a GGUF file's header (metadata and tensor infos) from disk: a prefix of the file, doubled until the
 * header fits in it, so inspecting a model of many gigabytes reads a few megabytes (a 150K-token vocabulary with its
 * merges is ~10 MB of metadata).
 */
import { open, type FileHandle } from "node:fs/promises";
import { FileFormatError } from "../../util/errors.js";
import { hasGgufMagic, parseGgufHeader, type GgufHeader } from "../../format/gguf/parseGguf.js";

const FIRST_PREFIX_BYTES = 1 << 20;

export interface GgufHeaderOnDisk extends GgufHeader {
  readonly fileBytes: number;
}

export async function readGgufHeader(path: string): Promise<GgufHeaderOnDisk> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    throw new FileFormatError(path, code === "ENOENT" ? "no such file" : `cannot open the file (${error instanceof Error ? error.message : String(error)})`);
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw new FileFormatError(path, "is a directory, not a model file");
    const fileBytes = stats.size;
    for (let prefix = Math.min(FIRST_PREFIX_BYTES, fileBytes); ; prefix = Math.min(prefix * 2, fileBytes)) {
      const bytes = new Uint8Array(prefix);
      const { bytesRead } = await handle.read(bytes, 0, prefix, 0);
      try {
        return { ...parseGgufHeader(bytes.subarray(0, bytesRead), path), fileBytes };
      } catch (error) {
        // a header cut by the prefix fails like a truncated file: read more, unless this was the whole file
        if (!(error instanceof FileFormatError) || bytesRead >= fileBytes) throw error;
      }
    }
  } finally {
    await handle.close();
  }
}

/** True when `path` holds a GGUF file (by its first bytes); false when it cannot be opened. */
export async function isGgufFile(path: string): Promise<boolean> {
  const handle = await open(path, "r").catch(() => null);
  if (handle === null) return false;
  try {
    const head = new Uint8Array(4);
    await handle.read(head, 0, 4, 0);
    return hasGgufMagic(head);
  } finally {
    await handle.close();
  }
}
