/**
 * Resolves after one turn of the event loop, so messages, signal handlers and I/O callbacks queued meanwhile run
 * (a cancel between two generated tokens). setImmediate under Node; elsewhere (a browser's Web Worker) a
 * MessageChannel message, which unlike setTimeout(0) is not clamped to 4 ms after a few nested calls.
 */
export function nextTurn(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (callback: () => void) => unknown }).setImmediate;
  if (typeof immediate === "function") return new Promise((resolve) => immediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
