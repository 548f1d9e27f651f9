/**
 * Chat templates: a conversation (system / user / assistant messages) rendered to the text a model was trained on,
 * by the model's own Jinja template (GGUF `tokenizer.chat_template`, copied there from tokenizer_config.json), with
 * @huggingface/jinja, the implementation Hugging Face wrote for exactly these templates (transformers.js uses it).
 * The variables passed are the ones transformers' apply_chat_template passes: messages, add_generation_prompt,
 * bos_token and eos_token; the library itself provides raise_exception, strftime_now, range and namespace.
 *
 * A model without a template (llama2.c checkpoints such as stories260K, most base models) gets PLAIN_CHAT_TEMPLATE:
 *
 *   {system}\n\n                (only when there is a system message)
 *   User: {user}\n
 *   Assistant: {assistant}\n    (one line per message, in order)
 *   Assistant:                  (the generation prompt; the model continues after the colon)
 *
 * It is plain text with no special tokens, so any tokenizer can encode it; a reply ends at the model's end of text.
 */
import { Template } from "@huggingface/jinja";
import { FileFormatError, QaqError } from "../util/errors.js";

export type ChatRole = "system" | "user" | "assistant";

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
}

export const PLAIN_CHAT_TEMPLATE =
  "{%- for message in messages -%}" +
  "{%- if message.role == 'system' -%}{{ message.content + '\\n\\n' }}" +
  "{%- elif message.role == 'user' -%}{{ 'User: ' + message.content + '\\n' }}" +
  "{%- else -%}{{ 'Assistant: ' + message.content + '\\n' }}" +
  "{%- endif -%}" +
  "{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{ 'Assistant:' }}{%- endif -%}";

/** A template's own error (its raise_exception), or a failure to render it. */
export class ChatTemplateError extends QaqError {
  constructor(message: string) {
    super("chat-template", message);
  }
}

export interface RenderOptions {
  /** append the opening of an assistant turn (what the model continues from) */
  readonly addGenerationPrompt: boolean;
  /** the text of the BOS / EOS tokens (templates write them as text, e.g. Llama 3's bos_token) */
  readonly bosToken: string;
  readonly eosToken: string;
}

export class ChatTemplate {
  private readonly template: Template;

  /** `source` names where the template came from, for error messages (a GGUF path, a file, "plain"). */
  constructor(
    readonly text: string,
    readonly source: string,
  ) {
    try {
      this.template = new Template(text);
    } catch (error) {
      throw new FileFormatError(source, `the chat template does not parse: ${(error as Error).message}`);
    }
  }

  static plain(): ChatTemplate {
    return new ChatTemplate(PLAIN_CHAT_TEMPLATE, "the plain-text chat format");
  }

  get isPlain(): boolean {
    return this.text === PLAIN_CHAT_TEMPLATE;
  }

  render(messages: readonly ChatMessage[], options: RenderOptions): string {
    try {
      return this.template.render({
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        add_generation_prompt: options.addGenerationPrompt,
        bos_token: options.bosToken,
        eos_token: options.eosToken,
      });
    } catch (error) {
      // a template's raise_exception (e.g. "roles must alternate") lands here too, with the template's own words
      throw new ChatTemplateError(`the chat template of ${this.source} cannot render this conversation: ${(error as Error).message}`);
    }
  }
}
