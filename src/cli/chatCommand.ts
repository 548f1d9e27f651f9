import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseKvFlag } from "./kvFlag.js";
import { ChatSession, type ChatTurn } from "../chat/ChatSession.js";
import { ChatTemplate } from "../chat/chatTemplate.js";
import { validateSampler } from "../generate/sampler.js";
import { FileFormatError, QaqError } from "../util/errors.js";
import { stringFlag, tokenLimitFlag, type FlagTable, type ParsedArgs } from "./args.js";
import { GENERATE_FLAGS, contextFromArgs, loadEngineFromArgs, samplerFromArgs } from "./generateCommand.js";
import type { CliIo } from "./io.js";

const { prompt: _prompt, json: _json, ...SHARED_FLAGS } = GENERATE_FLAGS;

export const CHAT_FLAGS: FlagTable = {
  ...SHARED_FLAGS,
  "max-tokens": { kind: "int", help: "tokens per reply at most; -1 = until the end of the turn or a full context", defaultText: "-1" },
  system: { kind: "string", help: "a system message, first in the conversation" },
  "chat-template-file": { kind: "string", help: "a Jinja chat template to use instead of the model's" },
};

export const CHAT_USAGE = "[--model F] [--system TEXT] [--kv SPEC] [generate flags]";
export const CHAT_SUMMARY = "Chat with the model's own chat template; the KV cache is kept between turns.";
export const CHAT_NOTES =
  "Reads lines from stdin (a terminal or a pipe; a line ending in \\ continues), streams each reply to stdout, then " +
  "prints the turn's tokens (reused from the cache, prefilled, generated) and the cache's measured bytes to stderr. " +
  "/reset clears the conversation, /exit or the end of input leaves; Ctrl-C stops a reply.";

/**
 * `qaq chat`: reads the user's lines (a line ending in "\" continues on the next), streams each reply to stdout and
 * after it one line of figures to stderr. Works the same with a terminal or a pipe on stdin. Ctrl-C during a reply
 * stops the reply; at the prompt it leaves.
 */
export async function chatCommand(args: ParsedArgs, io: CliIo): Promise<void> {
  const kv = parseKvFlag(stringFlag(args, "kv") ?? "fp32");
  const sampler = validateSampler(samplerFromArgs(args));
  const maxTokens = tokenLimitFlag(args, "max-tokens", -1);
  const templateFile = stringFlag(args, "chat-template-file");
  const template = templateFile === undefined ? undefined : new ChatTemplate(readTemplate(templateFile), templateFile);
  const system = stringFlag(args, "system");
  const engine = await loadEngineFromArgs(args);
  try {
    const chat = new ChatSession(engine, { kv, sampler, maxTokens, ctx: contextFromArgs(args, engine), ...(template ? { template } : {}), ...(system !== undefined ? { system } : {}) });
    try {
      await converse(chat, io);
    } finally {
      chat.dispose();
    }
  } finally {
    engine.dispose();
  }
}

function readTemplate(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    throw new FileFormatError(path, "cannot read the chat template file (missing or unreadable)");
  }
}

async function converse(chat: ChatSession, io: CliIo): Promise<void> {
  const input = io.input ?? process.stdin;
  const terminal = (input as { isTTY?: boolean }).isTTY === true;
  const lines = createInterface({ input, terminal, ...(terminal ? { output: process.stdout } : {}) });
  const formatName = chat.template.isPlain ? "the plain-text chat format (the model has no chat template)" : `the chat template of ${chat.template.source}`;
  io.err(`qaq chat: ${formatName}; KV cache ${chat.kvSpec}, context ${chat.capacity} tokens. /reset clears, /exit leaves.\n`);
  let replying: AbortController | undefined;
  lines.on("SIGINT", () => {
    if (replying) replying.abort();
    else lines.close();
  });
  const ask = (): void => {
    if (terminal) lines.prompt();
  };
  lines.setPrompt("> ");
  ask();
  let pending = "";
  for await (const line of lines) {
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + "\n";
      continue;
    }
    const text = (pending + line).trim();
    pending = "";
    if (text === "/exit" || text === "/quit") break;
    if (text === "/reset") {
      chat.reset();
      io.err("(conversation cleared)\n");
    } else if (text !== "") {
      replying = new AbortController();
      try {
        for await (const token of chat.send(text, replying.signal)) io.out(token.text);
        io.out("\n");
        io.err(turnLine(chat.lastTurn!) + "\n");
      } catch (error) {
        // a turn that cannot run (context full, template refusal) is reported; the conversation goes on
        if (!(error instanceof QaqError)) throw error;
        io.err(`qaq chat: ${error.message}\n`);
      } finally {
        replying = undefined;
      }
    }
    ask();
  }
  lines.close();
}

/** One line of figures after each turn. */
export function turnLine(turn: ChatTurn): string {
  const c = turn.cache;
  const decode = turn.decodeSeconds > 0 ? ` at ${(turn.generatedTokens / turn.decodeSeconds).toFixed(1)} tok/s` : "";
  const stop = turn.stoppedBy === "eos" ? "" : ` (stopped: ${turn.stoppedBy})`;
  return (
    `[${turn.promptTokens} prompt tokens: ${turn.reusedTokens} from the cache, ${turn.prefilledTokens} prefilled; ` +
    `${turn.generatedTokens} generated${decode}${stop}; KV cache ${c.spec}: ${c.tokens} tokens, ${c.hotBytes} bytes, ` +
    `${c.ratioVsFp16.toFixed(2)}x compression vs fp16 (${c.bitsPerValue.toFixed(2)} bits/value)` +
    (c.backingBytes > 0 ? ` + ${c.backingBytes} bytes full-precision copy ${c.backingLocation === "disk" ? "on disk" : "in memory"}` : "") +
    (c.slackBytes > 0 ? ` + ${c.slackBytes} bytes spare capacity` : "") +
    "]"
  );
}
