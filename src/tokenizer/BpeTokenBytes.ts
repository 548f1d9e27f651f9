/**
 * The bytes each token of a byte-level BPE vocabulary decodes to: normal tokens their alphabet characters turned
 * back into bytes (a token with characters outside the alphabet, which converters never write, its UTF-8 text),
 * user-defined tokens their plain text, byte tokens "<0xNN>" their byte, control tokens nothing (their text when
 * special tokens are rendered), unused tokens nothing. Unlike SentencePiece there is no space to drop after BOS.
 */
import { UsageError } from "../util/errors.js";
import { fromByteLevel } from "./byteLevelAlphabet.js";
import type { TokenBytes } from "./TokenByteTable.js";
import type { PieceType } from "./Vocabulary.js";

const NO_BYTES = new Uint8Array(0);

export class BpeTokenBytes implements TokenBytes {
  /** Shape [vocabSize] of variable-length arrays. */
  private readonly bytesById: readonly Uint8Array[];
  private readonly controlText = new Map<number, Uint8Array>();

  constructor(tokens: readonly string[], types: readonly PieceType[]) {
    const utf8 = new TextEncoder();
    this.bytesById = tokens.map((token, id) => {
      switch (types[id]!) {
        case "normal":
          return fromByteLevel(token) ?? utf8.encode(token);
        case "byte":
          return Uint8Array.of(Number.parseInt(token.slice(3, 5), 16));
        case "user":
        case "unknown":
          return utf8.encode(token);
        case "control":
          this.controlText.set(id, utf8.encode(token));
          return NO_BYTES;
        case "unused":
          return NO_BYTES;
      }
    });
  }

  bytesOf(id: number, _previousId: number, special: boolean): Uint8Array {
    const bytes = this.bytesById[id];
    if (bytes === undefined || !Number.isInteger(id)) {
      throw new UsageError(`token id ${id} is outside the vocabulary (0..${this.bytesById.length - 1})`);
    }
    if (special && bytes === NO_BYTES) return this.controlText.get(id) ?? bytes;
    return bytes;
  }
}
