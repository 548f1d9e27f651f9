/**
 * Incremental decoding for generation: each pushed token returns the text that became complete. A character
 * spread over several byte tokens (e.g. "☃" = <0xE2><0x98><0x83>) is held back until its last byte arrives.
 * The concatenated outputs of push() and flush() equal the tokenizer's decode() of the same ids.
 */
import type { TokenTextStream } from "./Tokenizer.js";
import type { TokenBytes } from "./TokenByteTable.js";

export class TokenStreamDecoder implements TokenTextStream {
  // Streaming mode keeps an incomplete UTF-8 sequence inside the decoder between calls.
  private readonly utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
  private previousId = -1;

  constructor(
    private readonly table: TokenBytes,
    private readonly special = false,
  ) {}

  /** Adds one token; returns the text it completed (possibly "", possibly several characters). */
  push(id: number): string {
    const bytes = this.table.bytesOf(id, this.previousId, this.special);
    this.previousId = id;
    return this.utf8.decode(bytes, { stream: true });
  }

  /** Ends the stream: an unfinished UTF-8 sequence comes out as U+FFFD, as decode() would give it. */
  flush(): string {
    this.previousId = -1;
    return this.utf8.decode();
  }
}
