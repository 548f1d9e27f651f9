/**
 * GPT-2's byte-level alphabet: every byte value stands for one printable character, so a vocabulary of strings can
 * hold arbitrary bytes. Bytes that are printable Latin-1 characters ("!".."~", "¡".."¬", "®".."ÿ") stand for
 * themselves; the other 68 (controls, space, DEL, NBSP, soft hyphen) take the code points 256, 257, ... in byte
 * order. So " " (0x20) is "Ġ" (U+0120) and "\n" (0x0A) is "Ċ" (U+010A) in Llama 3, Qwen and GPT-2 vocabularies.
 */

function printableItself(byte: number): boolean {
  return (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
}

/** The character standing for each byte; shape [256]. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const chars: string[] = [];
  let next = 256;
  for (let byte = 0; byte < 256; byte++) chars.push(String.fromCharCode(printableItself(byte) ? byte : next++));
  return chars;
})();

/** The byte each alphabet character stands for. */
export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((char, byte) => [char, byte]));

const utf8 = new TextEncoder();

/** `text`'s UTF-8 bytes written in the alphabet (a lone surrogate becomes U+FFFD's bytes, as TextEncoder does). */
export function toByteLevel(text: string): string {
  let out = "";
  for (const byte of utf8.encode(text)) out += BYTE_TO_CHAR[byte]!;
  return out;
}

/** The bytes a string of alphabet characters stands for; undefined when a character is outside the alphabet. */
export function fromByteLevel(token: string): Uint8Array | undefined {
  const bytes = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const byte = CHAR_TO_BYTE.get(token[i]!);
    if (byte === undefined) return undefined;
    bytes[i] = byte;
  }
  return bytes;
}
