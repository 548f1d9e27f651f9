/**
 * Reads a whole model file into one buffer through a file handle, in chunks: fs.readFile refuses files over 2 GiB,
 * and model files can be larger. Missing files and directories become FileFormatErrors naming the path.
 * `allocate` chooses where the bytes land: the engine passes a view of its wasm heap, so the weights are read
 * straight into the memory the kernels use and never copied again.
 */
import { open, type FileHandle } from "node:fs/promises";
import { FileFormatError, InterruptedError, throwIfInterrupted } from "../../util/errors.js";
import type { ByteAllocator, ReadProgress } from "../Platform.js";

const CHUNK_BYTES = 64 << 20;

/** `onProgress(bytesRead, total)` after every chunk (a loading bar for multi-GB files). */
export async function readWholeFileNode(
  path: string,
  allocate: ByteAllocator,
  onProgress?: ReadProgress,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw new FileFormatError(path, describeOpenError(error));
  }
  try {
    const stats = await handle.stat();
    if (stats.isDirectory()) throw new FileFormatError(path, "is a directory, not a model file");
    const bytes = allocate(stats.size);
    let done = 0;
    while (done < bytes.byteLength) {
      throwIfInterrupted(signal, `reading ${path} was cancelled`);
      const { bytesRead } = await handle.read(bytes, done, Math.min(CHUNK_BYTES, bytes.byteLength - done), done);
      if (bytesRead === 0) throw new FileFormatError(path, `the file shrank while being read (${done} of ${stats.size} bytes)`);
      done += bytesRead;
      onProgress?.(done, bytes.byteLength);
    }
    return bytes;
  } catch (error) {
    if (error instanceof FileFormatError || error instanceof InterruptedError) throw error;
    throw new FileFormatError(path, `cannot read the file (${error instanceof Error ? error.message : String(error)})`);
  } finally {
    await handle.close();
  }
}

function describeOpenError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "is a directory, not a model file";
  return `cannot open the file (${error instanceof Error ? error.message : String(error)})`;
}
