import { clear, createStore, get, set, type UseStore } from 'idb-keyval';

let store: UseStore | null = null;
/** No base model's features are longer (MobileNetV2's are 1,280 numbers). */
const MAX_LENGTH = 65_536;
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
  /** How long this run's feature vectors are, once one is known. */
  private length: number | null = null;

  async get(key: string, onDisk: boolean): Promise<Float32Array | undefined> {
    const known = this.memory.get(key);
    if (known) {
      this.reused.memory++;
      return known;
    }
    if (!onDisk) return undefined;
    const stored: unknown = await get(key, db()).catch(() => undefined);
    // Checked as it is read: a vector that is not one of this run's features is computed again instead.
    if (!this.fits(stored)) return undefined;
    this.length ??= stored.length;
    this.reused.disk++;
    this.memory.set(key, stored);
    return stored;
  }

  /** A feature vector: finite numbers, as many as the run's other features (at most MAX_LENGTH). */
  private fits(value: unknown): value is Float32Array {
    if (!(value instanceof Float32Array) || value.length === 0 || value.length > MAX_LENGTH) return false;
    if (this.length !== null && value.length !== this.length) return false;
    return value.every(Number.isFinite);
  }

  async set(key: string, vector: Float32Array, onDisk: boolean): Promise<void> {
    this.length ??= vector.length;
    this.memory.set(key, vector);
    if (onDisk) await set(key, vector, db()).catch(() => undefined);
  }

  startRun(): void {
    this.reused = { memory: 0, disk: 0 };
    this.length = null;
  }

  /** Forgets every feature, in memory and on disk. */
  async clear(): Promise<void> {
    this.memory.clear();
    await clear(db());
  }
}
