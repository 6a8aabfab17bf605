/** The distinct buffers under a set of files' bytes, to transfer them between threads (a buffer may be listed once only). */
export function buffersOf(files: Record<string, Uint8Array>): ArrayBuffer[] {
  return [...new Set(Object.values(files).map((bytes) => bytes.buffer as ArrayBuffer))];
}
