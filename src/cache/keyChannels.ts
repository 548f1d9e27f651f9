/**
 * The `keys=` choice of the uniform and qaq specs: token (keys quantized as they come, per token) or channel (keys
 * divided per channel by scales taken from the first tokens before the per-token quantization, the query multiplied
 * by them: ChannelSmoothedCache.ts).
 */
export type KeyScaling = "token" | "channel";
export const KEY_SCALINGS: readonly KeyScaling[] = ["token", "channel"];
