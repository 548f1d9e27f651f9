/**
 * The backing tier on disk: one temporary file (in a fresh directory under the OS temp dir, unlinked as soon as it is
 * open, else removed on dispose),
 * read and written with positioned synchronous I/O (fs.readSync / fs.writeSync at an offset), so only the bytes of
 * the groups being re-quantized are ever read back.
 *
 * File layout: one region per (layer, part) of maxTokens rows of kvDim fp16 values (2·kvDim bytes per row),
 *   offset(layer, part, token) = ((layer·2 + part)·maxTokens + token) · 2·kvDim
 * so an append of nTok tokens is one contiguous write per (layer, part); regions never reached stay sparse holes.
 */
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CacheShape } from "../../cache/KVCache.js";
import { widenF16Bits } from "../../cache/qaq/f16Bits.js";
import { partIndex, type BackingTier, type KvPart } from "../../cache/qaq/BackingTier.js";

export class FileBackingTier implements BackingTier {
  /** the temporary directory and the file inside it */
  readonly directory: string;
  readonly path: string;
  private fd: number;
  private readonly rowBytes: number;
  /** [nLayers·2] tokens stored per (layer, part) */
  private readonly stored: Int32Array;
  /** read buffer of up to one row: [kvDim] fp16 bits */
  private readonly readBuffer: Uint16Array;
  reads = 0;
  bytesRead = 0;

  constructor(private readonly shape: CacheShape) {
    const kvDim = shape.nKvHeads * shape.headDim;
    this.rowBytes = 2 * kvDim;
    this.stored = new Int32Array(2 * shape.nLayers);
    this.readBuffer = new Uint16Array(kvDim);
    this.directory = mkdtempSync(join(tmpdir(), "qaq-backing-"));
    this.path = join(this.directory, "kv-fp16.bin");
    this.fd = openSync(this.path, "w+");
    // unlinked at once where the OS allows it (POSIX): the open descriptor keeps the data, and nothing is left on
    // disk however the process ends (Ctrl-C, SIGTERM, SIGKILL, a crash); elsewhere dispose removes it
    try {
      rmSync(this.directory, { recursive: true });
      this.unlinked = true;
    } catch {
      this.unlinked = false;
    }
  }

  /** True when the file was unlinked at creation (it has no name on disk; only the descriptor reaches it). */
  readonly unlinked: boolean;

  /** Bytes the file spans on disk (sparse holes included), from the open descriptor. */
  get fileBytes(): number {
    return fstatSync(this.openFd()).size;
  }

  write(layer: number, part: KvPart, firstPos: number, nTok: number, rows: Uint16Array): void {
    const i = layer * 2 + partIndex(part);
    const length = nTok * this.rowBytes;
    let done = 0;
    while (done < length) {
      done += writeSync(this.openFd(), rows, done, length - done, this.offset(i, firstPos) + done);
    }
    this.stored[i] = Math.max(this.stored[i]!, firstPos + nTok);
  }

  read(layer: number, part: KvPart, token: number, elemOffset: number, count: number, out: Float32Array): void {
    const i = layer * 2 + partIndex(part);
    const fd = this.openFd();
    if (token >= this.stored[i]!) throw new RangeError(`backing file: token ${token} of layer ${layer} ${part} was never stored`);
    const length = 2 * count;
    let done = 0;
    while (done < length) {
      const n = readSync(fd, this.readBuffer, done, length - done, this.offset(i, token) + 2 * elemOffset + done);
      if (n === 0) throw new RangeError(`backing file ${this.path}: unexpected end at token ${token}`);
      done += n;
    }
    const outBits = new Uint32Array(out.buffer, out.byteOffset, count);
    for (let j = 0; j < count; j++) outBits[j] = widenF16Bits(this.readBuffer[j]!);
    this.reads++;
    this.bytesRead += length;
  }

  truncate(tokens: number): void {
    for (let i = 0; i < this.stored.length; i++) this.stored[i] = Math.min(this.stored[i]!, tokens);
  }

  get byteLength(): number {
    return this.stored.reduce((sum, tokens) => sum + tokens * this.rowBytes, 0);
  }

  dispose(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.stored.fill(0);
    rmSync(this.directory, { recursive: true, force: true });
  }

  private offset(regionIndex: number, token: number): number {
    return (regionIndex * this.shape.maxTokens + token) * this.rowBytes;
  }

  private openFd(): number {
    if (this.fd < 0) throw new Error(`backing file ${this.path}: used after dispose`);
    return this.fd;
  }
}
