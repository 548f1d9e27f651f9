/**
 * Reader of llama2.c tokenizer files (tok512.bin, tokenizer.bin). Layout, all little-endian:
 *   int32 max_token_length
 *   repeated until the end of the file, one record per token id 0, 1, 2, ...:
 *     float32 score, int32 length, `length` bytes of UTF-8 piece text
 * The file does not store the token count; the model's vocab_size is checked against it separately.
 * Pieces use a plain " " for SentencePiece's "▁"; byte-fallback pieces are the literal text "<0x00>".."<0xFF>".
 *
 * A minimal tokenizer-side reader, written while src/format/llama2cTokenizerFile.ts did not exist yet;
 * one of the two should absorb the other.
 */
import { FileFormatError } from "../util/errors.js";

export interface Llama2cTokenizerData {
  /** The longest piece in bytes, as recorded in the header. */
  readonly maxTokenLength: number;
  readonly pieces: readonly string[];
  /** Merge score per piece; shape [pieces.length]. */
  readonly scores: Float32Array;
}

const HEADER_BYTES = 4;
const RECORD_HEADER_BYTES = 8;

/** Parses the bytes of a tok.bin file; `file` names it in errors. */
export function parseLlama2cTokenizer(bytes: Uint8Array, file: string): Llama2cTokenizerData {
  if (bytes.byteLength < HEADER_BYTES) {
    throw new FileFormatError(file, `is ${bytes.byteLength} bytes, too short for a llama2.c tokenizer header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxTokenLength = view.getInt32(0, true);
  if (maxTokenLength < 0) throw new FileFormatError(file, `max_token_length is negative (${maxTokenLength})`);

  // Strict decoding: a piece that is not UTF-8 means this is not a tokenizer file (or it is corrupt).
  const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const pieces: string[] = [];
  const scoreList: number[] = [];
  let offset = HEADER_BYTES;
  while (offset < bytes.byteLength) {
    const id = pieces.length;
    if (offset + RECORD_HEADER_BYTES > bytes.byteLength) {
      throw new FileFormatError(file, `truncated: the record of token ${id} at byte ${offset} ends past the end of the file`);
    }
    const score = view.getFloat32(offset, true);
    const length = view.getInt32(offset + 4, true);
    offset += RECORD_HEADER_BYTES;
    if (length < 0) throw new FileFormatError(file, `token ${id} has a negative length (${length})`);
    if (offset + length > bytes.byteLength) {
      throw new FileFormatError(
        file,
        `truncated: token ${id} is ${length} bytes long from byte ${offset}, past the end of the file (${bytes.byteLength} bytes)`,
      );
    }
    let piece: string;
    try {
      piece = utf8.decode(bytes.subarray(offset, offset + length));
    } catch {
      throw new FileFormatError(file, `token ${id} is not valid UTF-8 text`);
    }
    pieces.push(piece);
    scoreList.push(score);
    offset += length;
  }
  if (pieces.length === 0) throw new FileFormatError(file, "holds no tokens");
  return { maxTokenLength, pieces, scores: Float32Array.from(scoreList) };
}
