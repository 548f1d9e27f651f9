/**
 * Perplexity on WikiText-2 (Merity et al. 2016), the standard KV-quantization text: the raw test split joined as
 * it is (one BOS at the start), scored in non-overlapping windows of the model's context (EVAL-PROTOCOL.md).
 */
import type { PerplexityTask } from "./taskDefinition.js";

export const WIKITEXT2: PerplexityTask = {
  kind: "perplexity",
  name: "wikitext2",
  summary: "perplexity of the WikiText-2 raw test split (text as is)",
  encoding: "raw",
  data: {
    bundledPath: "wikitext2/wiki.test.raw",
    where: "wikitext-2-raw-v1 (wiki.test.raw), e.g. the Hugging Face dataset Salesforce/wikitext",
    format: "plain UTF-8 text, used as it is",
  },
};
