import { UnsupportedError } from "../../util/errors.js";
import type { Architecture } from "./architecture.js";
import { LLAMA } from "./llama.js";
import { QWEN2 } from "./qwen2.js";
import { QWEN3 } from "./qwen3.js";

/** Every architecture this engine runs, by general.architecture. */
export const ARCHITECTURES: readonly Architecture[] = [LLAMA, QWEN2, QWEN3];

export function findArchitecture(name: string): Architecture | undefined {
  return ARCHITECTURES.find((a) => a.name === name);
}

/** Why a file of architecture `name` cannot run, or undefined when it can. */
export function unsupportedArchitectureReason(name: string): string | undefined {
  if (findArchitecture(name) !== undefined) return undefined;
  return `model architecture "${name}" is not supported; supported: ${ARCHITECTURES.map((a) => a.name).join(", ")}`;
}

/** The architecture named `name`, or an UnsupportedError naming it and the supported list. */
export function requireArchitecture(name: string, file: string): Architecture {
  const architecture = findArchitecture(name);
  if (architecture === undefined) throw new UnsupportedError(`${file}: ${unsupportedArchitectureReason(name)}`);
  return architecture;
}
