/** tfjs's default is exactly 4 MiB; staying under 4 MB keeps every shard below common upload and cache limits. */
export const SHARD_BYTES = 4_000_000;

/** Weight buffers, in manifest order, concatenated and cut into shards with tfjs's naming. */
export function shardWeights(chunks: readonly Uint8Array[]): { paths: string[]; shards: Uint8Array[]; bytes: number } {
  const bytes = chunks.reduce((sum, c) => sum + c.byteLength, 0);
  const all = new Uint8Array(bytes);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const n = Math.max(1, Math.ceil(bytes / SHARD_BYTES));
  const shards = Array.from({ length: n }, (_, i) => all.slice(i * SHARD_BYTES, (i + 1) * SHARD_BYTES));
  return { paths: shards.map((_, i) => `group1-shard${i + 1}of${n}.bin`), shards, bytes };
}
