/**
 * Writes a large file through a file handle in buffered chunks, into a temporary file beside the target that is
 * renamed over it only when everything was written: a failed or interrupted write leaves no partial file at `path`.
 */
import { unlinkSync } from "node:fs";
import { open, rename, unlink, type FileHandle } from "node:fs/promises";
import { FileFormatError } from "../../util/errors.js";

/** Writes are gathered into chunks of this size: fewer system calls than one write per tensor row. */
const CHUNK_BYTES = 8 << 20;

export class AtomicFileWriter {
  /** Bytes handed to `write` so far. */
  bytesWritten = 0;
  /** [CHUNK_BYTES] bytes waiting to be written; `pending` of them are used. */
  private readonly buffer = new Uint8Array(CHUNK_BYTES);
  private pending = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  /**
   * Runs `produce` with a writer for `path` and commits the file when it resolves; when it throws, the temporary
   * file is removed and the error rethrown.
   */
  static async writeFile(path: string, produce: (writer: AtomicFileWriter) => Promise<void>): Promise<void> {
    const temporaryPath = `${path}.${process.pid}.partial`;
    let handle: FileHandle;
    try {
      handle = await open(temporaryPath, "w");
    } catch (error) {
      throw new FileFormatError(path, `cannot create the file (${reason(error)})`);
    }
    const writer = new AtomicFileWriter(path, handle);
    // a process.exit() meanwhile (a second Ctrl-C) skips the catch below: the exit hook removes the file then
    const removeOnExit = (): void => {
      try {
        unlinkSync(temporaryPath);
      } catch {
        // already renamed or removed
      }
    };
    process.on("exit", removeOnExit);
    try {
      await produce(writer);
      await writer.flush();
      await handle.close();
      await rename(temporaryPath, path);
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(temporaryPath).catch(() => undefined);
      throw error;
    } finally {
      process.off("exit", removeOnExit);
    }
  }

  /** Appends `bytes`; the caller may reuse its buffer as soon as the promise resolves. */
  async write(bytes: Uint8Array): Promise<void> {
    this.bytesWritten += bytes.byteLength;
    if (this.pending + bytes.byteLength <= this.buffer.byteLength) {
      this.buffer.set(bytes, this.pending);
      this.pending += bytes.byteLength;
      return;
    }
    await this.flush();
    if (bytes.byteLength >= this.buffer.byteLength) {
      await this.writeFully(bytes);
    } else {
      this.buffer.set(bytes, 0);
      this.pending = bytes.byteLength;
    }
  }

  /** Appends `count` zero bytes (alignment padding). */
  async writeZeros(count: number): Promise<void> {
    if (count > 0) await this.write(new Uint8Array(count));
  }

  private async flush(): Promise<void> {
    if (this.pending === 0) return;
    await this.writeFully(this.buffer.subarray(0, this.pending));
    this.pending = 0;
  }

  private async writeFully(bytes: Uint8Array): Promise<void> {
    let done = 0;
    try {
      while (done < bytes.byteLength) {
        const { bytesWritten } = await this.handle.write(bytes, done, bytes.byteLength - done);
        done += bytesWritten;
      }
    } catch (error) {
      throw new FileFormatError(this.path, `write failed (${reason(error)})`);
    }
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
