/** localStorage, or none: it throws in sandboxed or storage-blocked third-party frames, where a choice then lasts the visit. */
export function localStore(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
}
