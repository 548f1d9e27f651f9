/**
 * References on disk, next to a sweep's output, keyed by model + task + limit + seed + scoring + ctx:
 *   <dir>/<key>.f32   [rows, vocab] float32 log-probabilities, little-endian, no header
 *   <dir>/<key>.json  ReferenceMeta (written last, after the rows are complete: its presence marks a finished file)
 * A reference is reused only when the model and data files still have the sizes it was made from.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { basename, join } from "node:path";
import { FileFormatError } from "../../util/errors.js";
import type { ReferenceMeta, RowSink, TaskReference } from "./TaskReference.js";

export interface ReferenceKeyParts {
  readonly model: string;
  readonly task: string;
  readonly limit: number | null;
  readonly seed: number;
  readonly scoring: string;
  readonly ctx: number | null;
}

export function referenceKey(p: ReferenceKeyParts): string {
  const model = basename(p.model).replace(/\.[^.]*$/, "");
  const raw = `${model}.${p.task}.n${p.limit ?? "all"}.s${p.seed}.${p.scoring}.c${p.ctx ?? "model"}`;
  return raw.replace(/[^A-Za-z0-9._-]/g, "_");
}

/** Rows written straight to `<key>.f32.partial`, renamed when the reference is saved. */
export class FileRows implements RowSink {
  rows = 0;
  private readonly fd: number;
  readonly partialPath: string;

  constructor(
    dir: string,
    readonly key: string,
    private readonly vocab: number,
  ) {
    mkdirSync(dir, { recursive: true });
    this.partialPath = join(dir, `${key}.f32.${process.pid}.partial`);
    this.fd = openSync(this.partialPath, "w");
  }

  write(logProbs: Float32Array): void {
    const row = logProbs.subarray(0, this.vocab);
    writeSync(this.fd, new Uint8Array(row.buffer, row.byteOffset, row.byteLength));
    this.rows++;
  }

  /** Drops the partial rows (the computation failed). */
  abandon(): void {
    closeSync(this.fd);
    rmSync(this.partialPath, { force: true });
  }

  /** Closes the rows and writes the meta beside them: the reference is complete from here on. */
  commit(dir: string, meta: ReferenceMeta): void {
    closeSync(this.fd);
    renameSync(this.partialPath, join(dir, `${this.key}.f32`));
    const metaPartial = join(dir, `${this.key}.json.${process.pid}.partial`);
    writeFileSync(metaPartial, JSON.stringify(meta));
    renameSync(metaPartial, join(dir, `${this.key}.json`));
  }
}

/** A saved reference, or undefined when none exists or it no longer matches its model and data files. */
export function loadReference(dir: string, key: string): TaskReference | undefined {
  const metaPath = join(dir, `${key}.json`);
  const rowsPath = join(dir, `${key}.f32`);
  if (!existsSync(metaPath) || !existsSync(rowsPath)) return undefined;
  let meta: ReferenceMeta;
  try {
    meta = JSON.parse(readFileSync(metaPath, "utf8")) as ReferenceMeta;
  } catch {
    throw new FileFormatError(metaPath, "is not a reference meta file (not JSON); delete it to recompute the reference");
  }
  if (!sizeIs(meta.model, meta.modelBytes) || !sizeIs(meta.data, meta.dataBytes)) return undefined;
  const fd = openSync(rowsPath, "r");
  const size = fstatSync(fd).size;
  if (size !== meta.rows * meta.vocab * 4) {
    closeSync(fd);
    throw new FileFormatError(rowsPath, `holds ${size} bytes, the meta says ${meta.rows} rows of ${meta.vocab} floats; delete it to recompute`);
  }
  return new FileReference(meta, fd);
}

/** The byte size of a file (0 when missing): a cheap check that model and data are the ones a reference used. */
export function fileSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

function sizeIs(path: string, bytes: number): boolean {
  return fileSize(path) === bytes;
}

/** Reads rows in chunks: runs read them in order, so one read serves many rows. */
class FileReference implements TaskReference {
  private static readonly CHUNK_ROWS = 256;
  /** [CHUNK_ROWS, vocab] rows firstRow.. of the file */
  private readonly chunk: Float32Array;
  private firstRow = -1;
  private rowsInChunk = 0;

  constructor(
    readonly meta: ReferenceMeta,
    private readonly fd: number,
  ) {
    this.chunk = new Float32Array(FileReference.CHUNK_ROWS * meta.vocab);
  }

  row(index: number): Float32Array {
    const { vocab, rows } = this.meta;
    if (index < 0 || index >= rows) throw new RangeError(`reference row ${index} of ${rows}`);
    if (index < this.firstRow || index >= this.firstRow + this.rowsInChunk) {
      this.rowsInChunk = Math.min(FileReference.CHUNK_ROWS, rows - index);
      const bytes = new Uint8Array(this.chunk.buffer, 0, this.rowsInChunk * vocab * 4);
      readSync(this.fd, bytes, 0, bytes.byteLength, index * vocab * 4);
      this.firstRow = index;
    }
    const at = (index - this.firstRow) * vocab;
    return this.chunk.subarray(at, at + vocab);
  }

  close(): void {
    closeSync(this.fd);
  }
}
