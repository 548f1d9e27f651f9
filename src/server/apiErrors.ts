/**
 * Errors in the shape OpenAI's API returns and its clients parse: `{"error": {"message", "type", "code", "param"}}`
 * with the HTTP status that goes with each. `param` names the request field at fault when there is one.
 */
export type ApiErrorType = "invalid_request_error" | "authentication_error" | "not_found_error" | "server_error" | "overloaded_error" | "rate_limit_error";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: ApiErrorType,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The JSON body sent to the client. */
  body(): { error: { message: string; type: ApiErrorType; code: string; param: string | null } } {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
  }
}

/** 400 for a field that is missing, of the wrong type or out of range; the message names the field. */
export function badField(param: string, problem: string): ApiError {
  return new ApiError(400, "invalid_request_error", "invalid_value", `${param}: ${problem}`, param);
}

export const errors = {
  badJson: (detail: string) => new ApiError(400, "invalid_request_error", "invalid_json", `the request body is not valid JSON: ${detail}`),
  unauthorized: () => new ApiError(401, "authentication_error", "invalid_api_key", "a valid API key is required (Authorization: Bearer KEY)"),
  notFound: (path: string) => new ApiError(404, "not_found_error", "not_found", `no route ${path}`),
  unknownModel: (model: string, served: string) =>
    new ApiError(404, "not_found_error", "model_not_found", `model "${model}" is not served here (this server serves "${served}")`, "model"),
  methodNotAllowed: (method: string, path: string, allowed: string) =>
    new ApiError(405, "invalid_request_error", "method_not_allowed", `${method} is not allowed on ${path} (allowed: ${allowed})`),
  tooLarge: (limit: number) => new ApiError(413, "invalid_request_error", "request_too_large", `the request body exceeds ${limit} bytes`),
  contextExceeded: (needed: number, limit: number) =>
    new ApiError(400, "invalid_request_error", "context_length_exceeded", `the prompt has ${needed} tokens; the context holds ${limit}`, "messages"),
  /** 429, as OpenAI's rate limit: its clients retry it after a pause by themselves */
  queueFull: (parallel: number, queue: number) =>
    new ApiError(429, "rate_limit_error", "queue_full", `the server is at capacity (${parallel} generating, ${queue} queued); retry later`),
  kvBudget: (need: number, positions: number, spec: string, budget: number) =>
    new ApiError(
      503,
      "overloaded_error",
      "kv_budget_exceeded",
      `this request can reach ${positions} positions, whose ${spec} KV cache needs ${need} bytes; the server's --kv-budget is ${budget} bytes for all requests together: lower max_tokens or the prompt`,
    ),
  shuttingDown: () => new ApiError(503, "overloaded_error", "shutting_down", "the server is shutting down"),
  internal: (detail: string) => new ApiError(500, "server_error", "internal_error", detail),
};
