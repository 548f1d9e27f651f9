/** The imports kernels.wasm expects: the shared memory, and `abort` (AssemblyScript's trap hook; unused with --noAssert). */
export function wasmImports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      memory,
      abort: (_msg: number, _file: number, line: number, column: number) => {
        throw new Error(`kernels.wasm aborted at ${line}:${column}`);
      },
      seed: () => 0,
    },
  };
}
