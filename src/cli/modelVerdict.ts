/**
 * Whether a GGUF file can run here, and if not why, for `qaq inspect`: the architecture (model/architectures), the
 * tensor types, then the same loading steps the engine takes (hyper-parameters, every tensor's shape, the
 * vocabulary), reporting the first error any of them raises.
 */
import { loadModelFile } from "../format/modelFile.js";
import type { GgufHeaderOnDisk } from "../platform/node/readGgufHeader.js";
import { describeGgmlTypeId, GGML_TYPES, tensorTypeFromGgmlId } from "../format/gguf/ggmlTypes.js";
import { metadataString } from "../format/gguf/ggufMetadata.js";
import { unsupportedArchitectureReason } from "../model/architectures/registry.js";
import { tokenizerFromGgufVocabulary, checkTokenizerMatchesModel } from "../tokenizer/loadTokenizer.js";
import { MAX_PAGES } from "../kernels/WasmHeap.js";
import { QaqError } from "../util/errors.js";
import type { ModelConfig } from "../model/config.js";

export type Verdict = { readonly runs: true; readonly config?: ModelConfig } | { readonly runs: false; readonly reason: string };

const WASM_MEMORY_BYTES = MAX_PAGES * 65536;

export async function ggufVerdict(path: string, header: GgufHeaderOnDisk): Promise<Verdict> {
  try {
    const architecture = metadataString(header.metadata, "general.architecture", path);
    if (architecture === undefined) return { runs: false, reason: "metadata general.architecture is missing" };
    const unsupported = unsupportedArchitectureReason(architecture);
    if (unsupported !== undefined) return { runs: false, reason: unsupported };
    const foreign = new Map<string, number>();
    for (const info of header.tensorInfos) {
      if (tensorTypeFromGgmlId(info.typeId) === undefined) {
        const name = describeGgmlTypeId(info.typeId);
        foreign.set(name, (foreign.get(name) ?? 0) + 1);
      }
    }
    if (foreign.size > 0) {
      const list = [...foreign].map(([name, count]) => `${name} x ${count}`).join(", ");
      const supported = Object.values(GGML_TYPES).map((t) => t.name).join(", ");
      return { runs: false, reason: `tensor types not supported: ${list} (supported: ${supported})` };
    }
    if (header.fileBytes >= WASM_MEMORY_BYTES) {
      return { runs: false, reason: `${(header.fileBytes / 2 ** 30).toFixed(2)} GiB of weights do not fit the 4 GiB WebAssembly memory` };
    }
    const file = await loadModelFile(path);
    if (file.vocabulary === undefined) return { runs: false, reason: "the file has no vocabulary (tokenizer.ggml.tokens)" };
    const tokenizer = tokenizerFromGgufVocabulary(file.vocabulary, path);
    checkTokenizerMatchesModel(tokenizer, file.config.vocabSize, path);
    return { runs: true, config: file.config };
  } catch (error) {
    if (error instanceof QaqError) return { runs: false, reason: error.message.replace(`${path}: `, "") };
    throw error;
  }
}
