/**
 * Exports of kernels.wasm that compute attention directly on packed (quantized) KV storage.
 * Layouts and semantics: docs/ARCHITECTURE.md, section "Packed KV storage".
 */
export interface PackedAttentionExports {}
