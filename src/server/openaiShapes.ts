/**
 * The response bodies of OpenAI's API as its clients read them: chat.completion / chat.completion.chunk,
 * text_completion (whole and streamed), the model list, and usage. Streamed responses are server-sent events:
 * one `data: {json}` line and a blank line per chunk, and `data: [DONE]` last.
 */
import { randomUUID } from "node:crypto";
import type { FinishReason, JobResult } from "./GenerationJob.js";

export interface Usage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

export function usageOf(result: JobResult): Usage {
  return { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens, total_tokens: result.promptTokens + result.completionTokens };
}

/** What every response of one request shares. */
export interface ResponseHead {
  readonly id: string;
  readonly created: number;
  readonly model: string;
}

export function responseHead(kind: "chat" | "completion", model: string): ResponseHead {
  return { id: `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID()}`, created: Math.floor(Date.now() / 1000), model };
}

export function chatCompletion(head: ResponseHead, text: string, result: JobResult): object {
  return {
    ...head,
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs: null, finish_reason: result.finishReason }],
    usage: usageOf(result),
  };
}

/** A streamed chat chunk: `delta` holds the new text (the first one also the role); the last one the finish reason. */
export function chatChunk(head: ResponseHead, delta: { role?: "assistant"; content?: string }, finishReason: FinishReason | null): object {
  return { ...head, object: "chat.completion.chunk", choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] };
}

export function textCompletion(head: ResponseHead, text: string, result: JobResult): object {
  return {
    ...head,
    object: "text_completion",
    choices: [{ index: 0, text, logprobs: null, finish_reason: result.finishReason }],
    usage: usageOf(result),
  };
}

export function textChunk(head: ResponseHead, text: string, finishReason: FinishReason | null): object {
  return { ...head, object: "text_completion", choices: [{ index: 0, text, logprobs: null, finish_reason: finishReason }] };
}

/** The chunk stream_options.include_usage asks for: after the finish reason, no choices, the request's usage. */
export function usageChunk(head: ResponseHead, kind: "chat" | "completion", result: JobResult): object {
  return { ...head, object: kind === "chat" ? "chat.completion.chunk" : "text_completion", choices: [], usage: usageOf(result) };
}

export function modelList(id: string, created: number): object {
  return { object: "list", data: [{ id, object: "model", created, owned_by: "qaq" }] };
}

export function sseEvent(payload: object | "[DONE]"): string {
  return `data: ${payload === "[DONE]" ? payload : JSON.stringify(payload)}\n\n`;
}
