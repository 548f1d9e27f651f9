import { benchEngine } from "./engineBench.js";
import { SHALLOW_LONG_SHAPE, TINYLLAMA_SHAPE, syntheticModelPath } from "./syntheticModels.js";
import { DEFAULT_MODEL, DEFAULT_TOKENIZER } from "../cli/defaults.js";

/**
 * `npm run bench [-- suite ...]`: JSON lines on stdout, progress on stderr. Suites: engine (prefill/decode against
 * the bandwidth bound). With no argument every suite runs.
 */
const SUITES: Readonly<Record<string, () => Promise<void>>> = {
  engine: async () => {
    for (const threads of [1, 2]) await benchEngine("stories260K", DEFAULT_MODEL, DEFAULT_TOKENIZER, threads, 256, 255);
    const tiny = await syntheticModelPath("tinyllama-shape", TINYLLAMA_SHAPE, "q8_0");
    for (const threads of [1, 2]) await benchEngine("synthetic TinyLlama-1.1B shape", tiny, undefined, threads, 64, 16);
    void SHALLOW_LONG_SHAPE;
  },
};

const wanted = process.argv.slice(2);
for (const name of wanted.length > 0 ? wanted : Object.keys(SUITES)) {
  const suite = SUITES[name];
  if (!suite) {
    process.stderr.write(`bench: unknown suite "${name}"; suites: ${Object.keys(SUITES).join(", ")}\n`);
    process.exit(2);
  }
  process.stderr.write(`bench: ${name}\n`);
  await suite();
}
