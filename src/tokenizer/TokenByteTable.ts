/**
 * The bytes each token contributes to decoded text, with llama2.c's decoding rules:
 * byte pieces give their one byte, text pieces their UTF-8 text (spaces already normalised), unused pieces nothing,
 * control pieces nothing (their text when special tokens are rendered), the unknown piece its own text; and a text
 * piece right after BOS loses its leading space (the dummy prefix the encoder added).
 * Decoding works on bytes, not strings, because byte pieces may split one character over several tokens.
 */
import { UsageError } from "../util/errors.js";
import type { Vocabulary } from "./Vocabulary.js";

/** The bytes each token decodes to; shared by the decoders of both tokenizer kinds. */
export interface TokenBytes {
  /** The bytes `id` decodes to after `previousId` (-1 at the start); `special` renders control tokens as text. */
  bytesOf(id: number, previousId: number, special: boolean): Uint8Array;
}

const SPACE = 0x20;
const NO_BYTES = new Uint8Array(0);

export class TokenByteTable implements TokenBytes {
  /** UTF-8 bytes of each token's decoded text; shape [vocabSize] of variable-length arrays. */
  private readonly bytesById: readonly Uint8Array[];
  /** Whether a token's leading space is dropped after BOS (text pieces only); shape [vocabSize]. */
  private readonly dropsSpaceAfterBos: Uint8Array;
  /** Control pieces' text, for decoding with special tokens rendered; by id. */
  private readonly controlText = new Map<number, Uint8Array>();
  private readonly bosId: number;

  constructor(vocabulary: Vocabulary) {
    const utf8 = new TextEncoder();
    const vocabSize = vocabulary.pieces.length;
    const bytesById: Uint8Array[] = new Array<Uint8Array>(vocabSize);
    this.dropsSpaceAfterBos = new Uint8Array(vocabSize);
    this.bosId = vocabulary.bosId;
    vocabulary.byteIds.forEach((id, byte) => {
      if (id >= 0) bytesById[id] = Uint8Array.of(byte);
    });
    vocabulary.pieces.forEach((piece, id) => {
      switch (vocabulary.types[id]!) {
        case "byte":
          // Only the first "<0xNN>" of a byte value is in byteIds; a duplicate still decodes to its byte.
          bytesById[id] ??= Uint8Array.of(Number.parseInt(piece.slice(3, 5), 16));
          break;
        case "control":
          this.controlText.set(id, utf8.encode(piece.trim()));
          bytesById[id] = NO_BYTES;
          break;
        case "unused":
          bytesById[id] = NO_BYTES;
          break;
        case "normal":
        case "user":
          bytesById[id] = utf8.encode(piece);
          this.dropsSpaceAfterBos[id] = piece.charCodeAt(0) === SPACE ? 1 : 0;
          break;
        case "unknown":
          bytesById[id] = utf8.encode(piece);
          break;
      }
    });
    this.bytesById = bytesById;
  }

  get vocabSize(): number {
    return this.bytesById.length;
  }

  /** The bytes `id` decodes to when it follows `previousId` (-1 at the start of the text). */
  bytesOf(id: number, previousId: number, special = false): Uint8Array {
    const bytes = this.bytesById[id];
    if (bytes === undefined || !Number.isInteger(id)) {
      throw new UsageError(`token id ${id} is outside the vocabulary (0..${this.bytesById.length - 1})`);
    }
    if (special && bytes === NO_BYTES) return this.controlText.get(id) ?? bytes;
    return previousId === this.bosId && this.dropsSpaceAfterBos[id] === 1 ? bytes.subarray(1) : bytes;
  }
}
