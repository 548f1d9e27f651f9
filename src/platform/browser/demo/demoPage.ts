/**
 * The demo page (dist/browser/index.html + demo.js): loads the bundled stories260K model into the engine worker,
 * generates with the chosen `--kv` spec and shows, beside the streamed text, the cache's measured bytes and its live
 * width map. `globalThis.qaqDemo` exposes the client and the last result (the browser tests read the ids there).
 */
import { QaqClient, type CacheSnapshot, type GenerationResult, type ModelInfo } from "../QaqClient.js";
import { drawWidthMap, widthLegend } from "./widthMapCanvas.js";

const element = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const status = element<HTMLParagraphElement>("status");
const form = element<HTMLFormElement>("form");
const output = element<HTMLPreElement>("output");
const speed = element<HTMLParagraphElement>("speed");
const errorLine = element<HTMLParagraphElement>("error");
const generateButton = element<HTMLButtonElement>("generate");
const stopButton = element<HTMLButtonElement>("stop");
const canvas = element<HTMLCanvasElement>("map");

const BUNDLED_MODEL = { model: "models/stories260K/stories260K.bin", tokenizer: "models/stories260K/tok512.bin" };
const params = new URLSearchParams(location.search);
/** ?threads=1|2|...|auto (default auto: every core when cross-origin isolated, else 1) */
const threads = params.get("threads") === null || params.get("threads") === "auto" ? "auto" : Number(params.get("threads"));

const client = new QaqClient();
let info: ModelInfo | undefined;
let stop: AbortController | undefined;
const demo: { client: QaqClient; ready: Promise<ModelInfo>; lastResult?: GenerationResult; lastError?: string } = {
  client,
  ready: load(BUNDLED_MODEL.model, BUNDLED_MODEL.tokenizer),
};
(globalThis as { qaqDemo?: typeof demo }).qaqDemo = demo;

function kib(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

function setStatus(state: string, text: string): void {
  status.dataset["state"] = state;
  status.textContent = text;
}

async function load(model: string | File, tokenizer: string | File | undefined): Promise<ModelInfo> {
  generateButton.disabled = true;
  setStatus("loading", `Loading ${typeof model === "string" ? model : model.name}…`);
  try {
    info = await client.load({
      model,
      ...(tokenizer === undefined ? {} : { tokenizer }),
      threads,
      onProgress: (read, total) => setStatus("loading", `Loading: ${kib(read)}${total > 0 ? ` of ${kib(total)}` : ""}`),
    });
    setStatus(
      "ready",
      `${info.name.split("/").pop()}: ${info.nLayers} layers, ${info.nHeads} heads (${info.nKvHeads} KV) of ${info.headDim}, ` +
        `context ${info.contextLength}; ${info.threads} thread${info.threads > 1 ? "s" : ""} ` +
        `(${info.crossOriginIsolated ? "cross-origin isolated" : "not cross-origin isolated: one thread"}); ` +
        `wasm heap ${kib(info.heap.allocatedBytes)}`,
    );
    generateButton.disabled = false;
    return info;
  } catch (error) {
    setStatus("error", `Loading failed: ${error instanceof Error ? error.message : String(error)}`);
    throw error;
  }
}

function showSnapshot(snapshot: CacheSnapshot): void {
  const r = snapshot.report;
  element("b-tokens").textContent = String(r.tokens);
  element("b-hot").textContent = `${kib(r.hotBytes)} (+ ${kib(r.slackBytes)} spare capacity)`;
  element("b-backing").textContent = r.backingBytes > 0 ? `${kib(r.backingBytes)} in ${r.backingLocation}` : "none";
  element("b-fp16").textContent = kib(r.fp16Bytes);
  element("b-ratio").textContent = r.ratioVsFp16 === 0 ? "–" : r.ratioVsFp16 >= 1 ? `${r.ratioVsFp16.toFixed(2)}x smaller` : `${(1 / r.ratioVsFp16).toFixed(2)}x larger`;
  element("b-bits").textContent = `${r.bitsPerValue.toFixed(2)} (paper's bits-only: ${r.paperBitsPerValue.toFixed(2)})`;
  element("b-heap").textContent = `${kib(snapshot.heap.allocatedBytes)} / ${kib(snapshot.heap.memoryBytes)}`;
  const note = element("map-note");
  if (snapshot.widths !== undefined && info !== undefined) {
    note.textContent = `(per layer and KV head: keys above values; one column per token)`;
    drawWidthMap(canvas, snapshot.widths, info.contextLength);
  } else {
    note.textContent = `(${r.spec} stores every token at one width: no map)`;
    canvas.getContext("2d")!.clearRect(0, 0, canvas.width, canvas.height);
  }
}

async function run(): Promise<void> {
  errorLine.textContent = "";
  output.textContent = "";
  speed.textContent = "";
  stop = new AbortController();
  generateButton.disabled = true;
  stopButton.disabled = false;
  setStatus("generating", status.textContent ?? "");
  const prompt = element<HTMLTextAreaElement>("prompt").value;
  output.textContent = prompt;
  try {
    const result = await client.generate({
      prompt,
      kv: element<HTMLInputElement>("kv").value.trim() || "fp32",
      maxTokens: Number(element<HTMLInputElement>("maxTokens").value),
      temperature: Number(element<HTMLInputElement>("temperature").value),
      signal: stop.signal,
      onToken: (text) => output.append(text),
      onSnapshot: showSnapshot,
    });
    demo.lastResult = result;
    showSnapshot(result.cache);
    const s = result.stats;
    speed.textContent =
      `${s.generatedTokens} tokens at ${(s.generatedTokens / s.decodeSeconds).toFixed(1)} tok/s ` +
      `(prompt ${s.promptTokens} tokens at ${(s.promptTokens / s.prefillSeconds).toFixed(1)} tok/s; stopped: ${s.stoppedBy})`;
    status.dataset["state"] = "done";
  } catch (error) {
    demo.lastError = error instanceof Error ? error.message : String(error);
    errorLine.textContent = demo.lastError;
    status.dataset["state"] = "failed";
  } finally {
    generateButton.disabled = false;
    stopButton.disabled = true;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  void run();
});
stopButton.addEventListener("click", () => stop?.abort());
element<HTMLInputElement>("modelFile").addEventListener("change", () => {
  const model = element<HTMLInputElement>("modelFile").files?.[0];
  const tokenizer = element<HTMLInputElement>("tokenizerFile").files?.[0];
  if (model !== undefined) void load(model, tokenizer).catch(() => undefined);
});
element("legend").append(
  ...widthLegend().map(([label, colour]) => {
    const item = document.createElement("span");
    item.innerHTML = `<i style="background:${colour}"></i>${label}`;
    return item;
  }),
);
