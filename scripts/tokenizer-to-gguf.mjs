// Converts a Hugging Face byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json in one folder) into the
// GGUF tokenizer.ggml.* metadata llama.cpp's converter writes, and writes a tiny random-weight llama model that
// carries it (dim 64, 1 layer, Q8_0): enough for `qaq` and llama.cpp to load the vocabulary and tokenize with it.
//
//   npm run build && node scripts/tokenizer-to-gguf.mjs <folder with tokenizer.json> <out.gguf> [--pre NAME]
//
// --pre names the pre-tokenizer (llama-bpe, qwen2, smollm, gpt-2) when it cannot be told from tokenizer.json.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ggufVocabularyFromTokenizerJson } from "../dist/src/format/hfTokenizerJson.js";
import { writeSyntheticLlamaGguf } from "../dist/src/format/syntheticModel.js";

function fail(message) {
  console.error(`tokenizer-to-gguf: ${message}`);
  process.exit(2);
}

const args = process.argv.slice(2);
const preAt = args.indexOf("--pre");
const pre = preAt >= 0 ? args.splice(preAt, 2)[1] : undefined;
if (preAt >= 0 && pre === undefined) fail("--pre needs a name");
if (args.length !== 2) fail("usage: node scripts/tokenizer-to-gguf.mjs <folder with tokenizer.json> <out.gguf> [--pre NAME]");
const [folder, out] = args;
const jsonPath = join(folder, "tokenizer.json");
if (!existsSync(jsonPath)) fail(`${jsonPath} does not exist`);
const configPath = join(folder, "tokenizer_config.json");
try {
  const tokenizerJson = JSON.parse(readFileSync(jsonPath, "utf8"));
  const config = existsSync(configPath) ? JSON.parse(readFileSync(configPath, "utf8")) : {};
  const converted = ggufVocabularyFromTokenizerJson(tokenizerJson, config, jsonPath, pre);
  const shape = { dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize: converted.vocabSize, seqLen: 512 };
  await writeSyntheticLlamaGguf(out, shape, "q8_0", 1, converted.entries);
  console.log(JSON.stringify({ out, pre: converted.pre, vocabSize: converted.vocabSize }));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
