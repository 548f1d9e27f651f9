import { test, before, after } from "node:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { Engine } from "../../src/engine/Engine.js";
import { Session, commonPrefixLength } from "../../src/engine/Session.js";
import { ChatSession } from "../../src/chat/ChatSession.js";
import { ChatTemplate } from "../../src/chat/chatTemplate.js";
import { generateOn, type GenerationStats } from "../../src/generate/generate.js";
import { Sampler } from "../../src/generate/sampler.js";
import { parseKvSpec } from "../../src/cache/spec.js";
import { ContextOverflowError } from "../../src/util/errors.js";
import { parseGguf } from "../../src/format/gguf/parseGguf.js";
import { encodeGguf } from "../../src/format/gguf/writeGguf.js";
import { BUNDLED_MODEL, BUNDLED_TOKENIZER, SHARED_GGUF, SKIP_SHARED } from "../support/paths.js";

/** ChatSession on stories260K (no chat template: the plain-text format), greedy, so every reply is reproducible. */
let engine: Engine;
before(async () => {
  engine = await Engine.load(BUNDLED_MODEL, BUNDLED_TOKENIZER, 1);
});
after(() => engine.dispose());

async function reply(chat: ChatSession, text: string, signal?: AbortSignal): Promise<string> {
  let out = "";
  for await (const token of chat.send(text, signal)) out += token.text;
  return out;
}

/** The reply a fresh session gives to the whole rendered prompt: what a chat without a kept cache would say. */
async function freshReply(prompt: Int32Array, maxTokens: number): Promise<string> {
  const session = Session.open(engine, parseKvSpec("fp32"));
  const stats: { value?: GenerationStats } = {};
  let out = "";
  for await (const token of generateOn(session, prompt, maxTokens, new Sampler({ kind: "greedy" }), stats)) out += token.text;
  session.dispose();
  return out;
}

test("the cache is kept between turns: turn 2 prefills only its new tokens and says what a fresh prefill says", async () => {
  const chat = new ChatSession(engine, { system: "A story.", maxTokens: 24 });
  assert.ok(chat.template.isPlain);
  const prompt1 = engine.tokenizer.encode(chat.render([{ role: "user", content: "Tell me about a cat." }]), { addBos: true });
  const generated: number[] = [];
  for await (const token of chat.send("Tell me about a cat.")) if (token.id >= 0) generated.push(token.id);
  const first = chat.lastTurn!;
  assert.equal(first.reusedTokens, 0);
  assert.equal(first.prefilledTokens, first.promptTokens);
  const cachedAfterFirst = chat.cachedTokens;
  // the cache holds the prompt and every reply token but the last (never fed)
  assert.equal(cachedAfterFirst, first.promptTokens + first.generatedTokens - 1);

  const prompt2 = engine.tokenizer.encode(chat.render([{ role: "user", content: "What did the cat eat?" }]), { addBos: true });
  const second = await reply(chat, "What did the cat eat?");
  const turn = chat.lastTurn!;
  assert.equal(turn.promptTokens, prompt2.length);
  // what the cache held: the first prompt and the reply but its last token; reused is its common prefix with prompt 2
  const held = Int32Array.from([...prompt1, ...generated.slice(0, -1)]);
  assert.equal(turn.reusedTokens, commonPrefixLength(held, prompt2));
  // here the reply re-encodes to the ids generated, so all of the cache is reused
  assert.equal(turn.reusedTokens, cachedAfterFirst);
  assert.equal(turn.prefilledTokens, prompt2.length - cachedAfterFirst);
  assert.equal(second, await freshReply(prompt2, 24));
  // measured after the turn: the positions it holds and bytes from its buffers (fp32: 4 bytes per value)
  const { nLayers, nKvHeads, headDim } = engine.config;
  assert.equal(turn.cache.tokens, chat.cachedTokens);
  assert.ok(turn.cache.hotBytes >= turn.cache.tokens * nLayers * 2 * nKvHeads * headDim * 4);
  assert.deepEqual(
    chat.messages.map((m) => m.role),
    ["system", "user", "assistant", "user", "assistant"],
  );
  chat.dispose();
});

test("when the rendered prefix changes, the cache rolls back to the common prefix and the reply matches a fresh prefill", async () => {
  // a template that shows only the latest user message: each turn shares just the "Q: " opening with the last
  const latestOnly = new ChatTemplate("{{ 'Q: ' + messages[-1].content + '\\nA:' }}", "latest-only");
  const chat = new ChatSession(engine, { template: latestOnly, maxTokens: 16 });
  await reply(chat, "The dog ran to the park.");
  const prompt1 = engine.tokenizer.encode("Q: The dog ran to the park.\nA:", { addBos: true });
  const prompt2 = engine.tokenizer.encode("Q: The bird sang a song.\nA:", { addBos: true });
  const second = await reply(chat, "The bird sang a song.");
  const turn = chat.lastTurn!;
  const shared = commonPrefixLength(prompt1, prompt2);
  assert.ok(shared >= 3 && shared < prompt1.length, `shared ${shared}`);
  assert.equal(turn.reusedTokens, shared);
  assert.equal(turn.prefilledTokens, prompt2.length - turn.reusedTokens);
  assert.equal(second, await freshReply(prompt2, 16));
  chat.dispose();
});

test("a cache that cannot roll back exactly starts over when the prefix changes", async () => {
  const latestOnly = new ChatTemplate("{{ 'Q: ' + messages[-1].content + '\\nA:' }}", "latest-only");
  const chat = new ChatSession(engine, { template: latestOnly, maxTokens: 8, kv: parseKvSpec("streaming:budget=64") });
  await reply(chat, "The dog ran.");
  await reply(chat, "The bird sang.");
  assert.equal(chat.lastTurn!.reusedTokens, 0);
  assert.equal(chat.lastTurn!.prefilledTokens, chat.lastTurn!.promptTokens);
  chat.dispose();
});

test("an AbortSignal stops the reply between two tokens; the partial reply stays in the conversation", async () => {
  const chat = new ChatSession(engine, { maxTokens: 200 });
  const controller = new AbortController();
  let tokens = 0;
  let text = "";
  for await (const token of chat.send("Tell me a long story.", controller.signal)) {
    text += token.text;
    if (++tokens === 5) controller.abort();
  }
  assert.equal(chat.lastTurn!.stoppedBy, "aborted");
  assert.equal(chat.lastTurn!.generatedTokens, 5);
  assert.equal(chat.messages.at(-1)!.content, text.trim());
  // the conversation goes on after an abort
  await reply(chat, "And then?");
  assert.equal(chat.messages.length, 4);
  chat.dispose();
});

test("/reset forgets the conversation but the system message; a turn that cannot fit leaves the conversation as it was", async () => {
  const chat = new ChatSession(engine, { system: "Stories.", maxTokens: 8, ctx: 40 });
  await reply(chat, "A cat.");
  chat.reset();
  assert.deepEqual(chat.messages, [{ role: "system", content: "Stories." }]);
  assert.equal(chat.cachedTokens, 0);
  const long = "The little dog ran and ran in the big green park with his friend the cat all day long.";
  await assert.rejects(reply(chat, long), ContextOverflowError);
  assert.equal(chat.messages.length, 1);
  assert.ok(chat.lastTurn === undefined);
  chat.dispose();
});

test("a GGUF's tokenizer.chat_template is the one a chat uses (stories260K.f32.gguf with a template added)", { skip: SKIP_SHARED }, async () => {
  const gguf = parseGguf(readFileSync(SHARED_GGUF), SHARED_GGUF);
  const template = "{% for m in messages %}{{ '[' + m.role + '] ' + m.content + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '[assistant]' }}{% endif %}";
  const metadata = [...gguf.metadata].map(([key, value]) => ({ key, value }));
  metadata.push({ key: "tokenizer.chat_template", value: { type: "string", value: template } });
  const dir = mkdtempSync(join(tmpdir(), "qaq-chat-"));
  const path = join(dir, "templated.gguf");
  try {
    writeFileSync(path, encodeGguf(metadata, gguf.tensors));
    const templated = await Engine.load(path, undefined, 1);
    try {
      assert.equal(templated.chatTemplate, template);
      const chat = new ChatSession(templated, { system: "Stories.", maxTokens: 4 });
      assert.equal(chat.template.isPlain, false);
      assert.equal(chat.template.source, path);
      assert.equal(chat.render([{ role: "user", content: "Hi" }]), "[system] Stories.\n[user] Hi\n[assistant]");
      await reply(chat, "Hi");
      assert.equal(chat.lastTurn!.promptTokens, templated.tokenizer.encode("[system] Stories.\n[user] Hi\n[assistant]", { addBos: true }).length);
      chat.dispose();
    } finally {
      templated.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
