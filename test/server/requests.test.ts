import { test } from "node:test";
import assert from "node:assert/strict";
import { ApiError } from "../../src/server/apiErrors.js";
import { parseChatRequest, parseCompletionRequest } from "../../src/server/requests.js";

function refusedField(fn: () => unknown): string | null {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 400);
    return error.param;
  }
  assert.fail("expected a 400");
}

test("chat requests: text parts are joined, developer is a system message, temperature 0 is greedy", () => {
  const r = parseChatRequest({
    model: "m",
    messages: [{ role: "developer", content: "be brief" }, { role: "user", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }] }],
    temperature: 0,
    max_completion_tokens: 7,
    stop: "x",
  });
  assert.equal(r.kind, "chat");
  if (r.kind !== "chat") return;
  assert.deepEqual(r.messages, [{ role: "system", content: "be brief" }, { role: "user", content: "ab" }]);
  assert.deepEqual(r.params.sampler, { kind: "greedy" });
  assert.equal(r.params.maxTokens, 7);
  assert.deepEqual(r.params.stop, ["x"]);
});

test("completion requests: OpenAI's defaults (temperature 1, top_p 1, no token limit), seed kept", () => {
  const r = parseCompletionRequest({ model: "m", prompt: ["once"], seed: 5 });
  assert.equal(r.kind === "completion" && r.prompt, "once");
  assert.deepEqual(r.params.sampler, { kind: "sample", temperature: 1, topK: 0, topP: 1, seed: 5 });
  assert.equal(r.params.maxTokens, Infinity);
  assert.equal(r.params.stream, false);
});

test("each bad field is a 400 naming the field", () => {
  const base = { model: "m", prompt: "p" };
  assert.equal(refusedField(() => parseCompletionRequest({ ...base, max_tokens: 0 })), "max_tokens");
  assert.equal(refusedField(() => parseCompletionRequest({ ...base, max_tokens: 1.5 })), "max_tokens");
  assert.equal(refusedField(() => parseCompletionRequest({ ...base, temperature: "hot" })), "temperature");
  assert.equal(refusedField(() => parseCompletionRequest({ ...base, top_p: 0 })), "top_p");
  assert.equal(refusedField(() => parseCompletionRequest({ ...base, stop: ["a", "b", "c", "d", "e"] })), "stop");
  assert.equal(refusedField(() => parseCompletionRequest({ ...base, stop: [""] })), "stop");
  assert.equal(refusedField(() => parseCompletionRequest({ ...base, n: 2 })), "n");
  assert.equal(refusedField(() => parseCompletionRequest({ ...base, stream: "yes" })), "stream");
  assert.equal(refusedField(() => parseCompletionRequest({ ...base, stream_options: { include_usage: true } })), "stream_options");
  assert.equal(refusedField(() => parseCompletionRequest({ ...base, logprobs: 2 })), "logprobs");
  assert.equal(refusedField(() => parseCompletionRequest({ model: "m" })), "prompt");
  assert.equal(refusedField(() => parseCompletionRequest({ prompt: "p" })), "model");
  assert.equal(refusedField(() => parseCompletionRequest([1])), "body");
  assert.equal(refusedField(() => parseChatRequest({ model: "m", messages: [] })), "messages");
  assert.equal(refusedField(() => parseChatRequest({ model: "m", messages: [{ role: "tool", content: "x" }] })), "messages[0].role");
  assert.equal(refusedField(() => parseChatRequest({ model: "m", messages: [{ role: "user", content: 3 }] })), "messages[0].content");
});
