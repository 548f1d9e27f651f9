/**
 * Whole-sequence decoding shared by both tokenizer kinds: the bytes of every token joined, then read as UTF-8 once,
 * so a character whose bytes are spread over several tokens comes out whole.
 */
import type { TokenBytes } from "./TokenByteTable.js";

// Not streaming, so it carries nothing from one call to the next.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

export function decodeTokens(table: TokenBytes, ids: ArrayLike<number>, special: boolean): string {
  const parts: Uint8Array[] = [];
  let byteLength = 0;
  for (let i = 0; i < ids.length; i++) {
    const bytes = table.bytesOf(ids[i]!, i > 0 ? ids[i - 1]! : -1, special);
    parts.push(bytes);
    byteLength += bytes.length;
  }
  // Shape [byteLength]: the UTF-8 text of all tokens; invalid sequences become U+FFFD when read.
  const joined = new Uint8Array(byteLength);
  let offset = 0;
  for (const bytes of parts) {
    joined.set(bytes, offset);
    offset += bytes.length;
  }
  return utf8.decode(joined);
}
