/**
 * What a chat needs from the model's tokenizer: the text of BOS and EOS (templates write them as text), the ids that
 * end an assistant turn, and the encoding of a rendered conversation.
 *
 * BOS: a template may write bos_token itself (Llama 3 does) while the tokenizer also puts BOS first (add_bos); the
 * rendered text's leading BOS text is then dropped and the tokenizer's own BOS kept, so the prompt holds one BOS,
 * as llama.cpp's chat does.
 */
import type { Tokenizer } from "../tokenizer/Tokenizer.js";

export interface ChatTokens {
  readonly bosText: string;
  readonly eosText: string;
  /** ids that end an assistant reply (EOS and end-of-turn tokens) */
  readonly stopIds: readonly number[];
  /** the ids of a rendered conversation, BOS first, control-token text taken as those tokens */
  encode(rendered: string): Int32Array;
}

export function chatTokensOf(tokenizer: Tokenizer): ChatTokens {
  // Control tokens decode to their text only when asked; that text is what templates write.
  const textOf = (id: number): string => tokenizer.decode([id], { special: true });
  const bosText = textOf(tokenizer.bosId);
  const eosText = textOf(tokenizer.eosId);
  return {
    bosText,
    eosText,
    // EOS, end-of-turn and end-of-message tokens (Llama 3's <|eot_id|> and <|end_of_text|>, ChatML's <|im_end|>)
    stopIds: tokenizer.endOfGenerationIds,
    encode: (rendered) => {
      // A tokenizer that adds BOS itself gets the text without the template's; one that does not keeps the
      // template's BOS text, which special-token parsing turns into the BOS id.
      const drop = tokenizer.addsBos && bosText !== "" && rendered.startsWith(bosText);
      return tokenizer.encode(drop ? rendered.slice(bosText.length) : rendered, { parseSpecial: true });
    },
  };
}
