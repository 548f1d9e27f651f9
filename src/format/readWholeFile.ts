/**
 * A whole file's bytes by path (Node) or URL (browser), through the platform's file source. `allocate` chooses where
 * the bytes land: the engine passes a view of its wasm heap, so the weights are read straight into the memory the
 * kernels use and never copied again.
 */
import { platform } from "#platform";
import type { ByteAllocator, ReadProgress } from "../platform/Platform.js";

export type { ByteAllocator } from "../platform/Platform.js";

/** [size] bytes in an ordinary buffer. */
const plainBuffer: ByteAllocator = (byteLength) => new Uint8Array(byteLength);

/** `onProgress(bytesRead, total)` after every chunk (a loading bar for multi-GB files). */
export function readWholeFile(path: string, allocate: ByteAllocator = plainBuffer, onProgress?: ReadProgress): Promise<Uint8Array> {
  return platform.fileSource(path).read(allocate, onProgress);
}
