/**
 * Greedy-generation divergence: each TinyStories paragraph's first tokens are a prompt; the quantized cache and the
 * fp32 cache continue it greedily, and the score is the number of tokens produced before the first one that
 * differs. Generation stops at the first divergence (nothing after it is scored).
 */
import type { GenerationTask } from "./taskDefinition.js";

export const STORY_GENERATION: GenerationTask = {
  kind: "generation",
  name: "generation",
  summary: "greedy generation: tokens until the first divergence from the fp32 cache",
  promptTokens: 32,
  newTokens: 64,
  data: {
    bundledPath: "tinystories/tinystories_val_head.txt",
    where: "the Hugging Face dataset roneneldan/TinyStories (TinyStoriesV2-GPT4-valid.txt), or any text",
    format: "plain UTF-8 text, prompts taken from paragraphs separated by blank lines",
  },
};
