/**
 * Reader of llama2.c tokenizer files (tokenizer.bin, tok512.bin). Layout, little-endian:
 *
 *   int32 max_token_length                      longest piece, in bytes
 *   then, until the end of the file, one record per token id 0, 1, 2, ...:
 *     float32 score                             merge priority (higher merges first)
 *     int32   length                            0..max_token_length
 *     length bytes                              the piece, normally UTF-8, no terminator
 *
 * The token count is not stored: it is what the file holds (the model's vocab_size must match). llama2.c writes
 * SentencePiece's "▁" as a plain space, byte-fallback pieces as the text "<0x00>".."<0xFF>", and BOS/EOS as
 * "\n<s>\n" / "\n</s>\n". Pieces are returned both as bytes (exact) and as text (UTF-8, with U+FFFD for any
 * invalid sequence; `validUtf8` says which are exact).
 */
import { FileFormatError } from "../util/errors.js";
import { readWholeFile } from "./readWholeFile.js";

export interface Llama2cTokenizerFile {
  readonly maxTokenLength: number;
  /** Piece text per id, decoded as UTF-8. */
  readonly pieces: readonly string[];
  /** The stored bytes of each piece (views into the file's bytes). */
  readonly pieceBytes: readonly Uint8Array[];
  /** Per id: true when the piece's bytes are valid UTF-8, so `pieces[id]` holds them exactly. */
  readonly validUtf8: readonly boolean[];
  /** Merge score per id; shape [pieces.length]. */
  readonly scores: Float32Array;
}

const HEADER_BYTES = 4;
const RECORD_HEADER_BYTES = 8;

export async function loadLlama2cTokenizerFile(path: string): Promise<Llama2cTokenizerFile> {
  return parseLlama2cTokenizerFile(await readWholeFile(path), path);
}

/** Parses the bytes of a tokenizer file; `file` names it in errors. */
export function parseLlama2cTokenizerFile(bytes: Uint8Array, file: string): Llama2cTokenizerFile {
  if (bytes.byteLength < HEADER_BYTES) {
    throw new FileFormatError(file, `is ${bytes.byteLength} bytes, too short for a llama2.c tokenizer header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxTokenLength = view.getInt32(0, true);
  if (maxTokenLength <= 0) throw new FileFormatError(file, `max_token_length ${maxTokenLength} is not positive: not a llama2.c tokenizer`);

  const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const lenient = new TextDecoder("utf-8", { ignoreBOM: true });
  const pieces: string[] = [];
  const pieceBytes: Uint8Array[] = [];
  const validUtf8: boolean[] = [];
  const scores: number[] = [];
  let offset = HEADER_BYTES;
  while (offset < bytes.byteLength) {
    const id = pieces.length;
    if (offset + RECORD_HEADER_BYTES > bytes.byteLength) {
      throw new FileFormatError(file, `truncated: the record of token ${id} at byte ${offset} ends past the end of the file`);
    }
    const score = view.getFloat32(offset, true);
    const length = view.getInt32(offset + 4, true);
    offset += RECORD_HEADER_BYTES;
    if (length < 0 || length > maxTokenLength) {
      throw new FileFormatError(file, `token ${id} has length ${length}, outside 0..max_token_length (${maxTokenLength})`);
    }
    if (offset + length > bytes.byteLength) {
      throw new FileFormatError(file, `truncated: token ${id} (${length} bytes at byte ${offset}) ends past the end of the file`);
    }
    const raw = bytes.subarray(offset, offset + length);
    offset += length;
    let text: string;
    try {
      text = strict.decode(raw);
      validUtf8.push(true);
    } catch {
      text = lenient.decode(raw);
      validUtf8.push(false);
    }
    pieces.push(text);
    pieceBytes.push(raw);
    scores.push(score);
  }
  if (pieces.length === 0) throw new FileFormatError(file, "holds no tokens");
  return { maxTokenLength, pieces, pieceBytes, validUtf8, scores: Float32Array.from(scores) };
}
