import { clear, createStore, get, set, type UseStore } from 'idb-keyval';

let store: UseStore | null = null;
const db = () => (store ??= createStore('glimpse-features', 'features'));

/**
 * Features of training images by base model, image content and view: in memory for the
 * worker's life, and on disk (IndexedDB) when the user asks, so a later visit trains
 * without recomputing them. The disk is a cache: failing to write it (quota, private
 * mode) loses nothing but time.
 */
export class FeatureCache {
  private readonly memory = new Map<string, Float32Array>();
  /** What the last run found in memory and on disk. */
  reused = { memory: 0, disk: 0 };

  async get(key: string, onDisk: boolean): Promise<Float32Array | undefined> {
    const known = this.memory.get(key);
    if (known) {
      this.reused.memory++;
      return known;
    }
    if (!onDisk) return undefined;
    const stored = await get<Float32Array>(key, db()).catch(() => undefined);
    if (!(stored instanceof Float32Array)) return undefined;
    this.reused.disk++;
    this.memory.set(key, stored);
    return stored;
  }

  async set(key: string, vector: Float32Array, onDisk: boolean): Promise<void> {
    this.memory.set(key, vector);
    if (onDisk) await set(key, vector, db()).catch(() => undefined);
  }

  startRun(): void {
    this.reused = { memory: 0, disk: 0 };
  }

  /** Forgets every feature, in memory and on disk. */
  async clear(): Promise<void> {
    this.memory.clear();
    await clear(db());
  }
}
