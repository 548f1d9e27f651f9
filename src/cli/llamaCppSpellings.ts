/**
 * The llama.cpp spellings people type out of habit (llama-cli, llama-perplexity, llama-server). Each either stands
 * for one of our flags (taken when the command has that flag) or is refused with a hint, so no habit is silently
 * ignored or read as something else. Flag names are llama.cpp's (common/arg.cpp); only the meaning carries over.
 */

/** llama.cpp spelling -> our flag name (without dashes). */
export const LLAMA_CPP_ALIASES: Readonly<Record<string, string>> = {
  "-m": "model",
  "-p": "prompt",
  "-n": "max-tokens",
  "--n-predict": "max-tokens",
  "--predict": "max-tokens",
  "-c": "ctx",
  "--ctx-size": "ctx",
  "-t": "threads",
  "--temp": "temperature",
  "-s": "seed",
  "-sys": "system",
  "--system-prompt": "system",
  // llama-perplexity reads its text with -f
  "-f": "text",
  "--file": "text",
};

const NOT_IMPLEMENTED = "not implemented in qaq; drop the flag";

/** llama.cpp spelling -> why it is refused and what to do instead. */
export const LLAMA_CPP_REFUSALS: Readonly<Record<string, string>> = {
  "-f": 'give the text itself: --prompt "$(cat FILE)"',
  "--file": 'give the text itself: --prompt "$(cat FILE)"',
  "-ngl": "qaq runs on the CPU (WebAssembly SIMD), there are no GPU layers; drop the flag",
  "--n-gpu-layers": "qaq runs on the CPU (WebAssembly SIMD), there are no GPU layers; drop the flag",
  "--gpu-layers": "qaq runs on the CPU (WebAssembly SIMD), there are no GPU layers; drop the flag",
  "-b": "the prefill runs in blocks of 64 tokens, not configurable; drop the flag",
  "--batch-size": "the prefill runs in blocks of 64 tokens, not configurable; drop the flag",
  "-ub": "the prefill runs in blocks of 64 tokens, not configurable; drop the flag",
  "--ubatch-size": "the prefill runs in blocks of 64 tokens, not configurable; drop the flag",
  "-ctk": "the KV cache is chosen with --kv (--kv blockq:q8_0 is llama.cpp's q8_0 cache; see the README's KV-cache specs)",
  "--cache-type-k": "the KV cache is chosen with --kv (--kv blockq:q8_0 is llama.cpp's q8_0 cache; see the README's KV-cache specs)",
  "-ctv": "the KV cache is chosen with --kv (--kv blockq:q8_0 is llama.cpp's q8_0 cache; see the README's KV-cache specs)",
  "--cache-type-v": "the KV cache is chosen with --kv (--kv blockq:q8_0 is llama.cpp's q8_0 cache; see the README's KV-cache specs)",
  "-fa": "attention always runs on the cache's own layout, there is no flash-attention switch; drop the flag",
  "--flash-attn": "attention always runs on the cache's own layout, there is no flash-attention switch; drop the flag",
  "-i": "for a conversation use qaq chat",
  "--interactive": "for a conversation use qaq chat",
  "-if": "for a conversation use qaq chat",
  "--interactive-first": "for a conversation use qaq chat",
  "-cnv": "for a conversation use qaq chat",
  "--conversation": "for a conversation use qaq chat",
  "-no-cnv": "qaq generate never starts a conversation; drop the flag",
  "--no-conversation": "qaq generate never starts a conversation; drop the flag",
  "--jinja": "qaq chat always renders the model's chat template with Jinja; drop the flag",
  "--chat-template": "give the template as a file: qaq chat --chat-template-file FILE",
  "--no-mmap": "the model is read into WebAssembly memory, never mapped; drop the flag",
  "--mlock": "the model is read into WebAssembly memory, never mapped; drop the flag",
  "--min-p": "min-p sampling is not implemented; use --top-k and --top-p",
  "--repeat-penalty": NOT_IMPLEMENTED,
  "--repeat-last-n": NOT_IMPLEMENTED,
  "--presence-penalty": NOT_IMPLEMENTED,
  "--frequency-penalty": NOT_IMPLEMENTED,
  "-r": NOT_IMPLEMENTED,
  "--reverse-prompt": NOT_IMPLEMENTED,
  "--grammar": NOT_IMPLEMENTED,
  "--json-schema": NOT_IMPLEMENTED,
  "--ignore-eos": NOT_IMPLEMENTED,
};
