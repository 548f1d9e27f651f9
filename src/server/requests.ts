/**
 * The bodies of `POST /v1/chat/completions` and `POST /v1/completions`, validated into typed requests. Every
 * problem is a 400 naming the field (apiErrors.badField). Fields OpenAI defines that change nothing here
 * (`user`, `frequency_penalty: 0`, ...) are accepted and ignored; fields that would change the output and are not
 * implemented (`n` > 1, `logprobs`, `echo`, non-zero penalties) are refused rather than silently ignored.
 */
import type { ChatMessage, ChatRole } from "../chat/chatTemplate.js";
import type { SamplerConfig } from "../generate/sampler.js";
import { badField } from "./apiErrors.js";

export interface GenerationParams {
  /** the `model` field as sent (checked against the served model by the server) */
  readonly model: string;
  /** tokens to generate at most (Infinity: until a stop or a full context) */
  readonly maxTokens: number;
  readonly sampler: SamplerConfig;
  /** stop strings: the text ends before the first one generated, which is not returned */
  readonly stop: readonly string[];
  readonly stream: boolean;
  /** stream_options.include_usage: a last chunk with `usage` and no choices */
  readonly includeUsage: boolean;
}

export type ApiRequest =
  | { readonly kind: "chat"; readonly messages: readonly ChatMessage[]; readonly params: GenerationParams }
  | { readonly kind: "completion"; readonly prompt: string; readonly params: GenerationParams };

type Body = Record<string, unknown>;

export function parseChatRequest(body: unknown): ApiRequest {
  const b = asObject(body);
  const messages = b["messages"];
  if (!Array.isArray(messages) || messages.length === 0) throw badField("messages", "must be a non-empty array of messages");
  return { kind: "chat", messages: messages.map((m, i) => parseMessage(m, i)), params: parseParams(b, "max_completion_tokens") };
}

export function parseCompletionRequest(body: unknown): ApiRequest {
  const b = asObject(body);
  let prompt = b["prompt"];
  // a one-element array is the same request; several prompts would be several completions (n per prompt)
  if (Array.isArray(prompt) && prompt.length === 1) prompt = prompt[0];
  if (typeof prompt !== "string") throw badField("prompt", "must be a string (or an array holding one string)");
  for (const field of ["echo", "suffix"] as const) {
    if (b[field] !== undefined && b[field] !== null && b[field] !== false && b[field] !== "") throw badField(field, "is not supported by this server");
  }
  return { kind: "completion", prompt, params: parseParams(b, undefined) };
}

function asObject(body: unknown): Body {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badField("body", "must be a JSON object");
  return body as Body;
}

const ROLES: Readonly<Record<string, ChatRole>> = { system: "system", developer: "system", user: "user", assistant: "assistant" };

function parseMessage(raw: unknown, i: number): ChatMessage {
  const where = `messages[${i}]`;
  if (typeof raw !== "object" || raw === null) throw badField(where, "must be an object with role and content");
  const m = raw as Body;
  const role = typeof m["role"] === "string" ? ROLES[m["role"]] : undefined;
  if (role === undefined) throw badField(`${where}.role`, `must be one of ${Object.keys(ROLES).join(", ")}, got ${JSON.stringify(m["role"])}`);
  return { role, content: messageText(m["content"], `${where}.content`) };
}

/** A message's content: a string, or an array of text parts (`{type: "text", text}`) joined. */
function messageText(content: unknown, where: string): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part, j) => {
        const p = part as Body | null;
        if (typeof p !== "object" || p === null || p["type"] !== "text" || typeof p["text"] !== "string") {
          throw badField(`${where}[${j}]`, 'only text parts ({"type": "text", "text": ...}) are supported');
        }
        return p["text"];
      })
      .join("");
  }
  throw badField(where, "must be a string or an array of text parts");
}

function parseParams(b: Body, maxTokensAlias: string | undefined): GenerationParams {
  const model = b["model"];
  if (typeof model !== "string" || model === "") throw badField("model", "must be a non-empty string");
  const alias = maxTokensAlias !== undefined && isSet(b[maxTokensAlias]) ? maxTokensAlias : "max_tokens";
  const maxTokens = isSet(b[alias]) ? integerField(b, alias, 1, Number.MAX_SAFE_INTEGER) : Infinity;
  if (isSet(b["n"])) integerField(b, "n", 1, 1);
  if (isSet(b["logprobs"]) && b["logprobs"] !== false) throw badField("logprobs", "is not supported by this server");
  for (const penalty of ["presence_penalty", "frequency_penalty"]) {
    if (isSet(b[penalty]) && b[penalty] !== 0) throw badField(penalty, "is not supported by this server (only 0)");
  }
  // OpenAI's defaults: temperature 1, top_p 1; temperature 0 is greedy (argmax)
  const temperature = isSet(b["temperature"]) ? numberField(b, "temperature", 0, 2) : 1;
  const topP = isSet(b["top_p"]) ? numberField(b, "top_p", 0, 1) : 1;
  if (topP === 0) throw badField("top_p", "must be > 0 and <= 1");
  // without a seed each request draws its own; the sampler takes a 32-bit seed
  const seed = isSet(b["seed"]) ? integerField(b, "seed", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  const sampler: SamplerConfig = temperature === 0 ? { kind: "greedy" } : { kind: "sample", temperature, topK: 0, topP, seed };
  const stream = isSet(b["stream"]) ? boolField(b, "stream") : false;
  let includeUsage = false;
  const options = b["stream_options"];
  if (isSet(options)) {
    if (!stream) throw badField("stream_options", "is only allowed with stream: true");
    if (typeof options !== "object" || Array.isArray(options)) throw badField("stream_options", "must be an object");
    const value = (options as Body)["include_usage"];
    if (isSet(value) && typeof value !== "boolean") throw badField("stream_options.include_usage", "must be a boolean");
    includeUsage = value === true;
  }
  return { model, maxTokens, sampler, stop: parseStop(b["stop"]), stream, includeUsage };
}

/** `stop`: a string or an array of up to 4 non-empty strings (OpenAI's limit). */
function parseStop(raw: unknown): string[] {
  if (!isSet(raw)) return [];
  const list = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(list) || list.length > 4 || list.some((s) => typeof s !== "string" || s === "")) {
    throw badField("stop", "must be a non-empty string or an array of at most 4 non-empty strings");
  }
  return list as string[];
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function numberField(b: Body, name: string, min: number, max: number): number {
  const v = b[name];
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw badField(name, `must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function integerField(b: Body, name: string, min: number, max: number): number {
  const v = b[name];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : min === max ? `${min}` : `from ${min} to ${max}`;
    throw badField(name, `must be an integer ${range}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function boolField(b: Body, name: string): boolean {
  const v = b[name];
  if (typeof v !== "boolean") throw badField(name, `must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}
