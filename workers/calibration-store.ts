import { createStore, del, get, set, type UseStore } from 'idb-keyval';

/**
 * The temperatures the user fitted (Evaluate view, "Calibrate this model"), kept on this device
 * per model version: the built-in and shipped models' files cannot change, and a stored model's
 * version names its bytes, so a temperature never outlives the model it was fitted on.
 */
let store: UseStore | null = null;
const db = () => (store ??= createStore('glimpse-calibration', 'temperatures'));

export async function storedTemperature(version: string): Promise<number | undefined> {
  try {
    return await get<number>(version, db());
  } catch {
    // No IndexedDB here: the model's own temperature applies.
    return undefined;
  }
}

/** Keeps `temperature` for the model `version`, or forgets it (null): the model's own then applies again. */
export async function storeTemperature(version: string, temperature: number | null): Promise<void> {
  if (temperature === null) await del(version, db());
  else await set(version, temperature, db());
}
