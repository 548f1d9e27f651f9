import { FileFormatError } from "../../util/errors.js";

/**
 * A little-endian cursor over a file's bytes where every read is bounds-checked: running past the end throws a
 * FileFormatError that names the file, the item being read and where, instead of a RangeError deep in a DataView.
 */
export class ByteReader {
  /** Next byte to read. */
  offset = 0;
  private readonly view: DataView;
  private readonly utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.byteLength - this.offset;
  }

  fail(problem: string): never {
    throw new FileFormatError(this.file, problem);
  }

  /** Throws unless `count` more bytes exist; `what` names the item for the message. */
  need(count: number, what: string): void {
    if (count > this.remaining) {
      this.fail(
        `truncated: ${what} at byte ${this.offset} needs ${count} bytes but the file ends ${this.remaining} bytes later`,
      );
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.offset++);
  }

  i8(what: string): number {
    this.need(1, what);
    return this.view.getInt8(this.offset++);
  }

  u16(what: string): number {
    this.need(2, what);
    const value = this.view.getUint16(this.offset, true);
    this.offset += 2;
    return value;
  }

  i16(what: string): number {
    this.need(2, what);
    const value = this.view.getInt16(this.offset, true);
    this.offset += 2;
    return value;
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  i32(what: string): number {
    this.need(4, what);
    const value = this.view.getInt32(this.offset, true);
    this.offset += 4;
    return value;
  }

  f32(what: string): number {
    this.need(4, what);
    const value = this.view.getFloat32(this.offset, true);
    this.offset += 4;
    return value;
  }

  f64(what: string): number {
    this.need(8, what);
    const value = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return value;
  }

  /** u64 as a number when it is a safe integer, as a bigint otherwise. */
  u64(what: string): number | bigint {
    this.need(8, what);
    const value = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }

  /** i64 as a number when it is a safe integer, as a bigint otherwise. */
  i64(what: string): number | bigint {
    this.need(8, what);
    const value = this.view.getBigInt64(this.offset, true);
    this.offset += 8;
    const safe = value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER);
    return safe ? Number(value) : value;
  }

  /**
   * A u64 count of items that each take at least `minItemBytes` in the rest of the file: a count that cannot fit is
   * garbage (or a hostile file) and fails here, before any loop or allocation sized by it.
   */
  count(what: string, minItemBytes: number): number {
    const at = this.offset;
    const value = this.u64(what);
    if (typeof value === "bigint" || value * minItemBytes > this.remaining) {
      this.fail(`${what} ${value} at byte ${at} cannot fit in the ${this.remaining} bytes left: the file is truncated or damaged`);
    }
    return value;
  }

  /** A u64 that must be a safe integer (a dimension or an offset). */
  safeU64(what: string): number {
    const at = this.offset;
    const value = this.u64(what);
    if (typeof value === "bigint") this.fail(`${what} ${value} at byte ${at} is too large`);
    return value;
  }

  /** A GGUF string: u64 byte length, then that many bytes of UTF-8 (no terminator). */
  string(what: string): string {
    const length = this.count(`length of ${what}`, 1);
    const start = this.offset;
    this.offset += length;
    try {
      return this.utf8.decode(this.bytes.subarray(start, start + length));
    } catch {
      return this.fail(`${what} at byte ${start} is not valid UTF-8`);
    }
  }

  /** `length` bytes as a view (no copy). */
  view8(length: number, what: string): Uint8Array {
    this.need(length, what);
    const start = this.offset;
    this.offset += length;
    return this.bytes.subarray(start, start + length);
  }
}
