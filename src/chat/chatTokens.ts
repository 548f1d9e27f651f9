/**
 * What a chat needs from the model's tokenizer: the text of BOS and EOS (templates write them as text), the ids that
 * end an assistant turn, and the encoding of a rendered conversation.
 *
 * BOS: a template may write bos_token itself (Llama 3 does) while the tokenizer also puts BOS first (add_bos); the
 * rendered text's leading BOS text is then dropped and the tokenizer's own BOS kept, so the prompt holds one BOS,
 * as llama.cpp's chat does.
 */
import type { SentencePieceTokenizer } from "../tokenizer/Tokenizer.js";

export interface ChatTokens {
  readonly bosText: string;
  readonly eosText: string;
  /** ids that end an assistant reply (EOS and end-of-turn tokens) */
  readonly stopIds: readonly number[];
  /** the ids of a rendered conversation, BOS first, control-token text taken as those tokens */
  encode(rendered: string): Int32Array;
}

/** End-of-turn pieces of common chat formats, looked up by text (what llama.cpp also does for vocabularies). */
const END_OF_TURN_PIECES = ["<|eot_id|>", "<|im_end|>", "<|end_of_text|>", "<|endoftext|>", "<end_of_turn>", "<|end|>", "</s>"];

export function chatTokensOf(tokenizer: SentencePieceTokenizer): ChatTokens {
  const { pieces, pieceIds } = tokenizer.vocabulary;
  const bosText = tokenizer.bosId >= 0 ? (pieces[tokenizer.bosId] ?? "") : "";
  const eosText = tokenizer.eosId >= 0 ? (pieces[tokenizer.eosId] ?? "") : "";
  const stopIds = [tokenizer.eosId];
  for (const piece of END_OF_TURN_PIECES) {
    const id = pieceIds.get(piece);
    if (id !== undefined && tokenizer.vocabulary.types[id] === "control" && !stopIds.includes(id)) stopIds.push(id);
  }
  return {
    bosText,
    eosText,
    stopIds,
    encode: (rendered) => {
      const text = bosText !== "" && rendered.startsWith(bosText) ? rendered.slice(bosText.length) : rendered;
      return tokenizer.encode(text, true);
    },
  };
}
