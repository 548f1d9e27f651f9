import { readFileSync } from "node:fs";
import { Engine } from "../engine/Engine.js";
import { parseKvSpec } from "../cache/spec.js";
import { encodeParagraphs, perplexity } from "../eval/perplexity.js";
import { KvBudget } from "../server/KvBudget.js";
import { emit } from "./timing.js";

/**
 * How many concurrent conversations of `capacity` tokens fit in one `qaq serve --kv-budget`, cache by cache, and
 * their perplexity on the same text. For a fixed cache the count is budget / (its measured hot bytes at `capacity`
 * tokens, KvBudget's probe); for QAQ the server admits conversations while their cheapest allocations fit and then
 * divides the budget among them, so each of N conversations plans to about budget / N: its perplexity is measured
 * with `qaq:budget=<budget / N>` (the same planner, one cache), at the N each fixed cache reaches and at QAQ's own
 * largest N. Perplexity: golden paragraph protocol (BOS per paragraph), windows of `capacity` tokens.
 */
export async function benchKvBudgetFit(label: string, modelPath: string, tokenizerPath: string | undefined, textPath: string, budgetBytes: number, capacity: number, scoredTokens: number, fixedSpecs: readonly string[]): Promise<void> {
  const engine = await Engine.load(modelPath, tokenizerPath, 1);
  try {
    const ids = encodeParagraphs(engine, readFileSync(textPath, "utf8"), scoredTokens);
    const score = (spec: string) => {
      const cache = engine.createCache(parseKvSpec(spec), capacity);
      try {
        return perplexity(engine, cache, ids, capacity);
      } finally {
        cache.dispose();
      }
    };
    const common = { bench: "kv-budget-fit", model: label, budgetBytes, conversationTokens: capacity, text: textPath.split("/").pop(), scoredTokens: ids.length - 1 };
    const counts: number[] = [];
    for (const spec of fixedSpecs) {
      const need = KvBudget.create(engine, parseKvSpec(spec), capacity, budgetBytes).need(capacity);
      const fit = Math.floor(budgetBytes / need);
      counts.push(fit);
      const result = score(spec);
      emit({ ...common, kv: spec, bytesPerConversation: need, conversations: fit, ppl: round(result.ppl), pplStderrOfMeanNll: round(result.stderr) });
    }
    const cheapest = KvBudget.create(engine, parseKvSpec("qaq"), capacity, budgetBytes).need(capacity);
    const most = Math.floor(budgetBytes / cheapest);
    for (const n of [...new Set([...counts, most])].filter((n) => n >= 1 && n <= most).sort((a, b) => a - b)) {
      const share = Math.floor(budgetBytes / n);
      const result = score(`qaq:budget=${share}`);
      emit({ ...common, kv: "qaq", bytesPerConversation: share, cheapestBytesPerConversation: cheapest, conversations: n, ppl: round(result.ppl), pplStderrOfMeanNll: round(result.stderr), measuredPeakHotBytes: result.cache.hotBytes });
    }
  } finally {
    engine.dispose();
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
