/**
 * A growable little-endian byte buffer for building GGUF headers (metadata and tensor infos): small compared with
 * the tensor data, which is streamed separately.
 */
export class ByteSink {
  private buffer = new Uint8Array(4096);
  private view = new DataView(this.buffer.buffer);
  private length = 0;
  private readonly utf8 = new TextEncoder();

  get byteLength(): number {
    return this.length;
  }

  /** The bytes written so far (a copy, so the sink can keep growing). */
  toBytes(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  u8(value: number): void {
    this.reserve(1).setUint8(this.length - 1, value);
  }

  i8(value: number): void {
    this.reserve(1).setInt8(this.length - 1, value);
  }

  u16(value: number): void {
    this.reserve(2).setUint16(this.length - 2, value, true);
  }

  i16(value: number): void {
    this.reserve(2).setInt16(this.length - 2, value, true);
  }

  u32(value: number): void {
    this.reserve(4).setUint32(this.length - 4, value, true);
  }

  i32(value: number): void {
    this.reserve(4).setInt32(this.length - 4, value, true);
  }

  f32(value: number): void {
    this.reserve(4).setFloat32(this.length - 4, value, true);
  }

  f64(value: number): void {
    this.reserve(8).setFloat64(this.length - 8, value, true);
  }

  u64(value: number | bigint): void {
    this.reserve(8).setBigUint64(this.length - 8, BigInt(value), true);
  }

  i64(value: number | bigint): void {
    this.reserve(8).setBigInt64(this.length - 8, BigInt(value), true);
  }

  bytes(bytes: Uint8Array): void {
    this.reserve(bytes.byteLength);
    this.buffer.set(bytes, this.length - bytes.byteLength);
  }

  /** A GGUF string: u64 byte length + UTF-8 bytes. */
  string(text: string): void {
    const encoded = this.utf8.encode(text);
    this.u64(encoded.byteLength);
    this.bytes(encoded);
  }

  /** Zero bytes up to the next multiple of `alignment`. */
  padTo(alignment: number): void {
    const padding = (alignment - (this.length % alignment)) % alignment;
    this.reserve(padding);
    this.buffer.fill(0, this.length - padding, this.length);
  }

  /** Grows the buffer so `count` more bytes fit, advances `length` over them, returns the view to write through. */
  private reserve(count: number): DataView {
    const needed = this.length + count;
    if (needed > this.buffer.byteLength) {
      const grown = new Uint8Array(Math.max(needed, this.buffer.byteLength * 2));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length = needed;
    return this.view;
  }
}
