/**
 * A made-up SentencePiece vocabulary of any size >= 259 for synthetic models: enough structure for a tokenizer to
 * load and encode any text (full byte fallback), and unique pieces up to the requested size.
 *
 *   id 0 "<unk>", 1 "<s>", 2 "</s>", 3..258 "<0x00>".."<0xFF>" (byte fallback)
 *   then " ", single letters/digits/punctuation, and lowercase strings of growing length, each once bare and once
 *   with a leading space (" a", "ab", " ab", ...): every piece of length n > 1 splits into two shorter pieces, so
 *   BPE merges can reach it. Pieces use llama2.c's " " for the space marker.
 */
import { ConfigError } from "../util/errors.js";

export interface SyntheticVocabulary {
  readonly pieces: readonly string[];
  /** Merge priority per id: earlier pieces merge first; 0 for special and byte pieces. Shape [vocabSize]. */
  readonly scores: Float32Array;
}

const SPECIAL_PIECES = ["<unk>", "<s>", "</s>"];
const BYTE_PIECE_COUNT = 256;
export const MIN_SYNTHETIC_VOCAB = SPECIAL_PIECES.length + BYTE_PIECE_COUNT;

const LOWERCASE = "abcdefghijklmnopqrstuvwxyz";
const SINGLE_CHARACTERS = `${LOWERCASE}ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'"-:;()`;
/** Strings longer than this are never needed: 26^4 four-letter pieces alone exceed any real vocabulary. */
const MAX_PIECE_LETTERS = 5;

export function syntheticVocabulary(vocabSize: number): SyntheticVocabulary {
  if (!Number.isInteger(vocabSize) || vocabSize < MIN_SYNTHETIC_VOCAB || vocabSize > 1 << 24) {
    throw new ConfigError("vocabSize", `an integer in ${MIN_SYNTHETIC_VOCAB}..${1 << 24} (3 special + 256 byte pieces)`, vocabSize);
  }
  const pieces = [...SPECIAL_PIECES];
  for (let byte = 0; byte < BYTE_PIECE_COUNT; byte++) {
    pieces.push(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`);
  }
  const seen = new Set(pieces);
  for (const piece of textPieces()) {
    if (pieces.length === vocabSize) break;
    if (!seen.has(piece)) {
      seen.add(piece);
      pieces.push(piece);
    }
  }
  const scores = Float32Array.from(pieces, (_, id) => (id < MIN_SYNTHETIC_VOCAB ? 0 : -(id - MIN_SYNTHETIC_VOCAB)));
  return { pieces, scores };
}

/** Text pieces in order of increasing length (" " for a space); each piece of length n > 1 is an earlier piece + one character. */
export function* textPieces(): Generator<string> {
  yield " ";
  for (const c of SINGLE_CHARACTERS) yield c;
  for (const c of SINGLE_CHARACTERS) yield ` ${c}`;
  let previous = [...LOWERCASE];
  for (let letters = 2; letters <= MAX_PIECE_LETTERS; letters++) {
    const current: string[] = [];
    for (const prefix of previous) {
      for (const c of LOWERCASE) {
        const piece = prefix + c;
        current.push(piece);
        yield piece;
        yield ` ${piece}`;
      }
    }
    previous = current;
  }
}
