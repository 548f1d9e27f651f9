/**
 * Typed errors. Every failure a user can cause (a bad file, a bad flag, a prompt longer than the context) ends in
 * one of these, with a message that names the thing and the problem; the CLI prints `message` alone and exits 1.
 */

/** Base class: `code` is stable and machine-readable, `message` is for people. */
export class QaqError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A model, tokenizer or data file that is missing, truncated, foreign or inconsistent. */
export class FileFormatError extends QaqError {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super("file-format", `${file}: ${problem}`);
  }
}

/** Something well-formed that this engine does not implement (a tensor type, an architecture). */
export class UnsupportedError extends QaqError {
  constructor(message: string) {
    super("unsupported", message);
  }
}

/** A configuration field out of its allowed range; names the field and what is allowed. */
export class ConfigError extends QaqError {
  constructor(
    readonly field: string,
    readonly allowed: string,
    readonly got: unknown,
  ) {
    super("config", `${field}: got ${JSON.stringify(got)}, allowed ${allowed}`);
  }
}

/** More tokens than the model's context (or the cache's capacity) can hold. */
export class ContextOverflowError extends QaqError {
  constructor(
    readonly needed: number,
    readonly limit: number,
    what: string,
  ) {
    super("context-overflow", `${what}: ${needed} tokens exceed the context of ${limit}`);
  }
}

/** NaN or infinity appeared in activations or logits. */
export class NumericError extends QaqError {
  constructor(where: string) {
    super("numeric", `non-finite values (NaN or Infinity) in ${where}`);
  }
}

/** A command-line mistake: unknown command or flag, missing or malformed value. */
export class UsageError extends QaqError {
  constructor(message: string) {
    super("usage", message);
  }
}

/** Memory limits: the 4 GiB wasm32 address space, or a KV-cache budget that cannot be met. */
export class MemoryLimitError extends QaqError {
  constructor(message: string) {
    super("memory-limit", message);
  }
}

/**
 * The user stopped the run (Ctrl-C = SIGINT, or SIGTERM). Whatever was finished has been reported or kept; the CLI
 * exits with 128 + the signal number (130 for SIGINT, 143 for SIGTERM), as shells do.
 */
export class InterruptedError extends QaqError {
  constructor(
    readonly signal: string,
    message: string,
  ) {
    super("interrupted", message);
  }

  get exitCode(): number {
    return this.signal === "SIGTERM" ? 143 : 130;
  }
}

/** Throws an InterruptedError when `signal` was aborted; `what` says what was stopped and what was kept. */
export function throwIfInterrupted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    const name = typeof signal.reason === "string" ? signal.reason : "SIGINT";
    throw new InterruptedError(name, `interrupted (${name}): ${what}`);
  }
}
