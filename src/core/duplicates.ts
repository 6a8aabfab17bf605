/**
 * Exact duplicates among training photos: the same folder chosen twice doubles every class, and its
 * copies land on both sides of the validation split (which then reads 100%). Only photos whose byte
 * size another photo shares are read and digested, so a set without duplicates costs no reads.
 */

/**
 * Indices of the items whose content equals an earlier item's. `digest(i)` is asked only for items
 * whose size another item has, once each; the caller may cache it across calls.
 */
export async function laterDuplicates(
  sizes: readonly number[],
  digest: (index: number) => Promise<string>,
): Promise<Set<number>> {
  const bySize = new Map<number, number[]>();
  sizes.forEach((size, i) => bySize.set(size, [...(bySize.get(size) ?? []), i]));
  const later = new Set<number>();
  for (const group of bySize.values()) {
    if (group.length < 2) continue;
    const seen = new Set<string>();
    for (const i of group) {
      const key = await digest(i);
      if (seen.has(key)) later.add(i);
      else seen.add(key);
    }
  }
  return later;
}

/** A hex SHA-256 of bytes, with the Web Crypto API that browsers, workers and Node all have. */
export async function sha256(bytes: BufferSource): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
}
