import { readFileSync } from "node:fs";
import { FileFormatError } from "../../util/errors.js";

/**
 * Function index -> export name of a WebAssembly binary, read from its export section. V8's CPU profiles name wasm
 * code `wasm-function[<index>]` (the module's function index space); this turns those back into kernel names.
 * Functions that are not exported (helpers the compiler did not inline) keep no name.
 *
 * Binary layout read here (WebAssembly core spec, binary format): magic "\0asm" + version (8 bytes), then sections of
 * (id: u8, size: LEB128 u32, payload); the export section (id 7) is a vector of (name, kind: 0 = function, index).
 */
export function wasmFunctionNames(path: string): ReadonlyMap<number, string> {
  const bytes = readFileSync(path);
  if (bytes.length < 8 || bytes.readUInt32LE(0) !== 0x6d736100) throw new FileFormatError(path, "is not a WebAssembly binary (bad magic)");
  let pos = 8;
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    let byte: number;
    do {
      if (pos >= bytes.length) throw new FileFormatError(path, "ends inside a LEB128 number");
      byte = bytes[pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return result;
  };

  const names = new Map<number, string>();
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    const size = leb();
    const end = pos + size;
    if (id === 7) {
      for (let count = leb(); count > 0; count--) {
        const length = leb();
        const exported = bytes.subarray(pos, pos + length).toString("utf8");
        pos += length;
        const kind = bytes[pos++]!;
        const index = leb();
        if (kind === 0) names.set(index, exported);
      }
    }
    pos = end;
  }
  return names;
}
