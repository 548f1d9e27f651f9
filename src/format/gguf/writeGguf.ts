/**
 * GGUF v3 writers, the inverse of parseGguf: `encodeGguf` builds a whole file in memory (small models, tests);
 * `writeGgufFile` streams one to disk with the tensor data supplied chunk by chunk, so a model of gigabytes is
 * written without ever being held in memory, through a temporary file renamed into place at the end.
 */
import { FileFormatError, throwIfInterrupted } from "../../util/errors.js";
import { EventLoopYield } from "../../util/eventLoopYield.js";
import { platform } from "#platform";
import type { FileSink } from "../../platform/Platform.js";
import { GGML_TYPES } from "./ggmlTypes.js";
import { layoutGguf, type GgufMetadataEntry, type GgufTensorSpec } from "./layoutGguf.js";

export type { GgufMetadataEntry, GgufTensorSpec } from "./layoutGguf.js";

export interface GgufTensorData extends GgufTensorSpec {
  /** The stored bytes in the layout of `type` (see ggmlTypes.ts). */
  readonly data: Uint8Array;
}

/**
 * A tensor's data in pieces, in order; their lengths must add up to the tensor's byte size. The writer is done with
 * a chunk before it asks for the next one, so a generator may refill one buffer.
 */
export type TensorChunks = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * Progress and interruption of a long write (a conversion): `onProgress(bytesWritten, fileBytes)` after every chunk;
 * when `signal` is aborted (Ctrl-C) the write stops after the current chunk, the temporary file is removed and an
 * InterruptedError is thrown. The event loop gets a turn every ~0.1 s so that a signal handler can run at all.
 */
export interface WriteControl {
  readonly signal?: AbortSignal;
  readonly onProgress?: (bytesWritten: number, fileBytes: number) => void;
}

/** The complete GGUF v3 file for these metadata entries and tensors. */
export function encodeGguf(metadata: readonly GgufMetadataEntry[], tensors: readonly GgufTensorData[]): Uint8Array {
  const layout = layoutGguf(metadata, tensors);
  const file = new Uint8Array(layout.fileBytes); // zero-filled, so the padding needs no writes
  file.set(layout.header, 0);
  tensors.forEach((tensor, i) => {
    checkLength(tensor, tensor.data.byteLength, layout.tensorBytes[i]!, "<memory>");
    file.set(tensor.data, layout.header.byteLength + layout.tensorOffsets[i]!);
  });
  return file;
}

/**
 * Writes a GGUF v3 file at `path`; `tensorData(tensor, index)` supplies each tensor's bytes when its turn comes.
 * On any error (including one thrown by `tensorData`) no file is left at `path`.
 */
export async function writeGgufFile(
  path: string,
  metadata: readonly GgufMetadataEntry[],
  tensors: readonly GgufTensorSpec[],
  tensorData: (tensor: GgufTensorSpec, index: number) => TensorChunks,
  control: WriteControl = {},
): Promise<void> {
  const layout = layoutGguf(metadata, tensors);
  const turns = new EventLoopYield();
  const untouched = `${path} was not written (an existing file is left as it was)`;
  await platform.writeFileAtomically(path, async (writer) => {
    throwIfInterrupted(control.signal, untouched);
    await writer.write(layout.header);
    for (let i = 0; i < tensors.length; i++) {
      await padTo(writer, layout.header.byteLength + layout.tensorOffsets[i]!);
      const start = writer.bytesWritten;
      for await (const chunk of tensorData(tensors[i]!, i)) {
        await writer.write(chunk);
        control.onProgress?.(writer.bytesWritten, layout.fileBytes);
        if (control.signal !== undefined) {
          await turns.maybe();
          throwIfInterrupted(control.signal, untouched);
        }
      }
      checkLength(tensors[i]!, writer.bytesWritten - start, layout.tensorBytes[i]!, path);
    }
    await padTo(writer, layout.fileBytes);
    control.onProgress?.(writer.bytesWritten, layout.fileBytes);
  });
}

async function padTo(writer: FileSink, offset: number): Promise<void> {
  await writer.writeZeros(offset - writer.bytesWritten);
}

function checkLength(tensor: GgufTensorSpec, got: number, expected: number, file: string): void {
  if (got !== expected) {
    throw new FileFormatError(
      file,
      `tensor ${tensor.name} (${GGML_TYPES[tensor.type].name} [${tensor.shape.join(", ")}]) was given ${got} bytes of data, needs ${expected}`,
    );
  }
}
