/**
 * Browser ByteSources: a URL read with a streamed fetch, and a File (or any Blob) read through its stream. Both write
 * straight into the memory `allocate` returns (the engine's wasm heap), so a model is never held twice, and report
 * progress after every chunk.
 */
import { FileFormatError, InterruptedError } from "../../util/errors.js";
import type { ByteAllocator, ByteSource, ReadProgress } from "../Platform.js";

/** The file at `url` (relative URLs resolve against the worker's or page's location). */
export function fetchSource(url: string | URL): ByteSource {
  const name = String(url);
  return {
    name,
    async read(allocate, onProgress, signal) {
      let response: Response;
      try {
        response = await fetch(url, signal === undefined ? {} : { signal });
      } catch (error) {
        if (signal?.aborted) throw cancelled(name);
        throw new FileFormatError(name, `cannot fetch the file (${error instanceof Error ? error.message : String(error)})`);
      }
      if (!response.ok) throw new FileFormatError(name, `HTTP ${response.status} ${response.statusText}`.trim());
      if (response.body === null) throw new FileFormatError(name, "the response has no body");
      // Content-Length is the size on the wire: with a Content-Encoding it is not the file's size
      const encoding = response.headers.get("content-encoding");
      const length = Number(response.headers.get("content-length") ?? "NaN");
      const size = (encoding === null || encoding === "identity") && Number.isSafeInteger(length) ? length : undefined;
      return readStream(name, response.body, size, allocate, onProgress, signal);
    },
  };
}

/** A File the user picked (or any Blob); `name` defaults to the File's name. */
export function blobSource(blob: Blob, name = blob instanceof File ? blob.name : "blob"): ByteSource {
  return { name, read: (allocate, onProgress, signal) => readStream(name, blob.stream(), blob.size, allocate, onProgress, signal) };
}

/**
 * Reads a stream whole. With a known size the chunks land in `allocate(size)` directly; without one they are
 * gathered first and copied once at the end (the only case with a transient second copy).
 */
async function readStream(
  name: string,
  stream: ReadableStream<Uint8Array>,
  size: number | undefined,
  allocate: ByteAllocator,
  onProgress: ReadProgress | undefined,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal?.addEventListener("abort", onAbort);
  try {
    if (size !== undefined) {
      const bytes = allocate(size);
      let done = 0;
      for (;;) {
        const chunk = await next(reader, name, signal);
        if (chunk === null) break;
        if (done + chunk.byteLength > size) throw new FileFormatError(name, `is longer than the ${size} bytes announced`);
        bytes.set(chunk, done);
        done += chunk.byteLength;
        onProgress?.(done, size);
      }
      if (done !== size) throw new FileFormatError(name, `ended after ${done} of ${size} bytes`);
      return bytes;
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const chunk = await next(reader, name, signal);
      if (chunk === null) break;
      chunks.push(chunk);
      total += chunk.byteLength;
      onProgress?.(total, 0);
    }
    const bytes = allocate(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    onProgress?.(total, total);
    return bytes;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
}

async function next(reader: ReadableStreamDefaultReader<Uint8Array>, name: string, signal: AbortSignal | undefined): Promise<Uint8Array | null> {
  if (signal?.aborted) throw cancelled(name);
  let result: ReadableStreamReadResult<Uint8Array>;
  try {
    result = await reader.read();
  } catch (error) {
    if (signal?.aborted) throw cancelled(name);
    throw new FileFormatError(name, `reading failed (${error instanceof Error ? error.message : String(error)})`);
  }
  if (signal?.aborted) throw cancelled(name);
  return result.done ? null : result.value;
}

function cancelled(name: string): InterruptedError {
  return new InterruptedError("abort", `interrupted: loading ${name} was cancelled`);
}
