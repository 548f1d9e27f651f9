/**
 * A SentencePiece vocabulary in one normalised form, whatever file it came from: pieces are plain text with the
 * "▁" (U+2581) space marker already turned into " ", so llama2.c tok.bin files and GGUF "llama" vocabularies
 * look the same to the tokenizer.
 */
import { FileFormatError, UnsupportedError } from "../util/errors.js";

/** The roles a piece can have (SentencePiece's piece types). */
export type PieceType = "normal" | "unknown" | "control" | "byte" | "user" | "unused";

export interface Vocabulary {
  /** Piece text per id, space marker normalised to " "; byte pieces keep their literal "<0xNN>" text. */
  readonly pieces: readonly string[];
  /** Merge priority per id (higher merges first); shape [vocabSize]. */
  readonly scores: Float32Array;
  readonly types: readonly PieceType[];
  readonly bosId: number;
  readonly eosId: number;
  readonly unknownId: number | undefined;
  /** Id of the byte piece "<0xNN>" for each byte value, -1 where the vocabulary has none; shape [256]. */
  readonly byteIds: Int32Array;
  /** True when all 256 byte pieces exist, so any text can be encoded without the unknown piece. */
  readonly hasByteFallback: boolean;
  /** Piece text -> id; when a text occurs twice the lower id wins. */
  readonly pieceIds: ReadonlyMap<string, number>;
}

/** What a GGUF file's tokenizer.ggml.* keys hold; absent optional keys are `undefined`. */
export interface GgufVocabularyFields {
  /** tokenizer.ggml.model */
  readonly model: string;
  /** tokenizer.ggml.tokens, with "▁" as the space marker */
  readonly tokens: readonly string[];
  /** tokenizer.ggml.scores */
  readonly scores: ArrayLike<number> | undefined;
  /** tokenizer.ggml.token_type (llama.cpp codes: 1 normal, 2 unknown, 3 control, 4 user, 5 unused, 6 byte) */
  readonly tokenTypes: ArrayLike<number> | undefined;
  /** tokenizer.ggml.bos_token_id */
  readonly bosId: number | undefined;
  /** tokenizer.ggml.eos_token_id */
  readonly eosId: number | undefined;
  /** tokenizer.ggml.unknown_token_id */
  readonly unknownId: number | undefined;
  /** tokenizer.ggml.merges ("left right", best first); byte-level BPE only */
  readonly merges?: readonly string[] | undefined;
  /** tokenizer.ggml.pre, the pre-tokenizer name; byte-level BPE only */
  readonly pre?: string | undefined;
  /** tokenizer.ggml.add_bos_token / add_eos_token */
  readonly addBos?: boolean | undefined;
  readonly addEos?: boolean | undefined;
  /** tokenizer.ggml.eot_token_id / eom_token_id (end of turn / message) */
  readonly eotId?: number | undefined;
  readonly eomId?: number | undefined;
}

const SPACE_MARKER = /\u2581/g;
const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;

/** llama.cpp's token_type codes; 0 ("undefined") is rejected rather than guessed. */
const GGUF_TOKEN_TYPES: Readonly<Record<number, PieceType>> = {
  1: "normal",
  2: "unknown",
  3: "control",
  4: "user",
  5: "unused",
  6: "byte",
};

/** The ids llama.cpp assumes for a SentencePiece vocabulary whose file does not name them. */
const LLAMA_DEFAULT_BOS_ID = 1;
const LLAMA_DEFAULT_EOS_ID = 2;

/** A llama2.c tok.bin vocabulary: unk = 0, BOS = 1, EOS = 2, pieces already use " " for spaces. */
export function vocabularyFromLlama2c(pieces: readonly string[], scores: ArrayLike<number>, file: string): Vocabulary {
  if (pieces.length < 3) {
    throw new FileFormatError(file, `has ${pieces.length} pieces; a llama2.c vocabulary needs at least <unk>, BOS and EOS`);
  }
  const types = pieces.map((piece, id) => inferPieceType(piece, id, 1, 2, 0));
  return assembleVocabulary(pieces, scores, types, 1, 2, 0, file);
}

/** A GGUF SentencePiece ("llama") vocabulary; byte-level BPE ("gpt2") ones are read by BpeVocabulary.ts. */
export function vocabularyFromGguf(fields: GgufVocabularyFields, file: string): Vocabulary {
  if (fields.model !== "llama") {
    throw new UnsupportedError(
      `${file}: tokenizer.ggml.model "${fields.model}" is not a SentencePiece vocabulary ("llama")`,
    );
  }
  if (fields.scores === undefined) {
    throw new FileFormatError(file, "tokenizer.ggml.scores is missing; SentencePiece merges need piece scores");
  }
  const bosId = fields.bosId ?? LLAMA_DEFAULT_BOS_ID;
  const eosId = fields.eosId ?? LLAMA_DEFAULT_EOS_ID;
  const pieces = fields.tokens.map((token) => token.replace(SPACE_MARKER, " "));
  const typeCodes = fields.tokenTypes;
  let unknownId = fields.unknownId;
  let types: PieceType[];
  if (typeCodes === undefined) {
    types = pieces.map((piece, id) => inferPieceType(piece, id, bosId, eosId, unknownId));
  } else {
    if (typeCodes.length !== pieces.length) {
      throw new FileFormatError(file, `tokenizer.ggml.token_type has ${typeCodes.length} entries for ${pieces.length} tokens`);
    }
    types = pieceTypesFromGguf(typeCodes, pieces, file);
    if (unknownId === undefined) {
      const firstUnknown = types.indexOf("unknown");
      unknownId = firstUnknown >= 0 ? firstUnknown : undefined;
    }
  }
  return assembleVocabulary(pieces, fields.scores, types, bosId, eosId, unknownId, file);
}

/** The types of tokenizer.ggml.token_type, checked against the tokens (a byte token must read "<0xNN>"). */
export function pieceTypesFromGguf(typeCodes: ArrayLike<number>, tokens: readonly string[], file: string): PieceType[] {
  return tokens.map((token, id) => ggufPieceType(typeCodes[id]!, token, id, file));
}

function ggufPieceType(code: number, piece: string, id: number, file: string): PieceType {
  const type = GGUF_TOKEN_TYPES[code];
  if (type === undefined) {
    throw new FileFormatError(file, `tokenizer.ggml.token_type of token ${id} is ${code}; allowed 1..6`);
  }
  if (type === "byte" && !BYTE_PIECE.test(piece)) {
    throw new FileFormatError(file, `token ${id} is typed as a byte but its text ${JSON.stringify(piece)} is not <0xNN>`);
  }
  return type;
}

/** The type a piece must have when the file records none (llama2.c, or GGUF without token_type). */
function inferPieceType(piece: string, id: number, bosId: number, eosId: number, unknownId: number | undefined): PieceType {
  if (id === unknownId) return "unknown";
  if (id === bosId || id === eosId) return "control";
  return BYTE_PIECE.test(piece) ? "byte" : "normal";
}

function assembleVocabulary(
  pieces: readonly string[],
  scoreValues: ArrayLike<number>,
  types: readonly PieceType[],
  bosId: number,
  eosId: number,
  unknownId: number | undefined,
  file: string,
): Vocabulary {
  const vocabSize = pieces.length;
  if (vocabSize === 0) throw new FileFormatError(file, "the vocabulary is empty");
  if (scoreValues.length !== vocabSize) {
    throw new FileFormatError(file, `${scoreValues.length} scores for ${vocabSize} pieces`);
  }
  const checkId = (name: string, id: number | undefined): void => {
    if (id !== undefined && !(Number.isInteger(id) && id >= 0 && id < vocabSize)) {
      throw new FileFormatError(file, `${name} ${id} is outside the vocabulary of ${vocabSize} pieces`);
    }
  };
  checkId("BOS id", bosId);
  checkId("EOS id", eosId);
  checkId("unknown id", unknownId);

  const scores = Float32Array.from(scoreValues);
  const pieceIds = new Map<string, number>();
  const byteIds = new Int32Array(256).fill(-1);
  for (let id = 0; id < vocabSize; id++) {
    if (Number.isNaN(scores[id])) throw new FileFormatError(file, `score of piece ${id} is NaN`);
    const piece = pieces[id]!;
    if (!pieceIds.has(piece)) pieceIds.set(piece, id);
    if (types[id] === "byte") {
      const byte = Number.parseInt(BYTE_PIECE.exec(piece)![1]!, 16);
      if (byteIds[byte] === -1) byteIds[byte] = id;
    }
  }
  return {
    pieces: [...pieces],
    scores,
    types: [...types],
    bosId,
    eosId,
    unknownId,
    byteIds,
    hasByteFallback: byteIds.every((id) => id >= 0),
    pieceIds,
  };
}
