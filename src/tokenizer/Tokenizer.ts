/**
 * The SentencePiece BPE tokenizer of LLaMA-family models (llama2.c tok.bin files and GGUF "llama" vocabularies),
 * with llama2.c's encoding and decoding semantics; see SentencePieceEncoder and TokenByteTable for the rules.
 */
import { SentencePieceEncoder } from "./SentencePieceEncoder.js";
import { TokenByteTable } from "./TokenByteTable.js";
import { TokenStreamDecoder } from "./TokenStreamDecoder.js";
import type { Vocabulary } from "./Vocabulary.js";

export class SentencePieceTokenizer {
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  private readonly encoder: SentencePieceEncoder;
  private readonly table: TokenByteTable;
  // Not streaming, so it carries nothing from one decode() to the next.
  private readonly utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

  constructor(readonly vocabulary: Vocabulary) {
    this.vocabSize = vocabulary.pieces.length;
    this.bosId = vocabulary.bosId;
    this.eosId = vocabulary.eosId;
    this.encoder = new SentencePieceEncoder(vocabulary);
    this.table = new TokenByteTable(vocabulary);
  }

  /** Token ids of `text`, BOS first when `addBos`; no EOS is ever added. */
  encode(text: string, addBos: boolean): Int32Array {
    return this.encoder.encode(text, addBos);
  }

  /** The text of a whole sequence; invalid or unfinished UTF-8 from byte tokens becomes U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    const parts: Uint8Array[] = [];
    let byteLength = 0;
    for (let i = 0; i < ids.length; i++) {
      const bytes = this.table.bytesOf(ids[i]!, i > 0 ? ids[i - 1]! : -1);
      parts.push(bytes);
      byteLength += bytes.length;
    }
    // Shape [byteLength]: the UTF-8 text of all tokens, decoded at once so characters split across tokens join.
    const joined = new Uint8Array(byteLength);
    let offset = 0;
    for (const bytes of parts) {
      joined.set(bytes, offset);
      offset += bytes.length;
    }
    return this.utf8.decode(joined);
  }

  /** A decoder for tokens arriving one at a time (generation). */
  createStreamDecoder(): TokenStreamDecoder {
    return new TokenStreamDecoder(this.table);
  }
}
