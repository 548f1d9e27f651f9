/**
 * Perplexity on TinyStories (Eldan & Li 2023), the stories models' own domain, under the golden paragraph protocol
 * (shared/golden/stories260K.json ppl_file): split on blank lines, strip, BOS before each paragraph, windows of the
 * model's context. The shipped file is the head of the validation split.
 */
import type { PerplexityTask } from "./taskDefinition.js";

export const TINYSTORIES: PerplexityTask = {
  kind: "perplexity",
  name: "tinystories",
  summary: "perplexity of TinyStories validation text (paragraphs, BOS each)",
  encoding: "paragraphs",
  data: {
    bundledPath: "tinystories/tinystories_val_head.txt",
    where: "the Hugging Face dataset roneneldan/TinyStories (TinyStoriesV2-GPT4-valid.txt)",
    format: "plain UTF-8 text, stories separated by blank lines",
  },
};
