import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import { isTemperature } from '../src/core/calibration';

/**
 * The temperatures the user fitted (Evaluate view, "Calibrate this model"), kept on this device
 * per model version: the built-in and shipped models' files cannot change, and a stored model's
 * version names its bytes, so a temperature never outlives the model it was fitted on.
 */
let store: UseStore | null = null;
const db = () => (store ??= createStore('glimpse-calibration', 'temperatures'));

/** The temperature kept for `version`, checked as it is read (IndexedDB holds whatever was written to it): anything but a temperature is none. */
export async function storedTemperature(version: string): Promise<number | undefined> {
  try {
    const value: unknown = await get(version, db());
    return isTemperature(value) ? value : undefined;
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
