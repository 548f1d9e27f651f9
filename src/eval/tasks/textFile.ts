/** Perplexity of any text file a user names with --data: the text as it is, one BOS at the start. */
import type { PerplexityTask } from "./taskDefinition.js";

export const TEXT_FILE: PerplexityTask = {
  kind: "perplexity",
  name: "text",
  summary: "perplexity of your own text file (--data FILE, text as is)",
  encoding: "raw",
  data: {
    bundledPath: null,
    where: "any file of your own (pass it with --data FILE)",
    format: "plain UTF-8 text",
  },
};
