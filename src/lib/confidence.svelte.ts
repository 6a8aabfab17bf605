import { isMinConfidence, parseMinConfidence } from '../core/predictions';
import { localStore } from './local-storage';
import { minConfidenceFromUrl } from './url-options';

const STORAGE_KEY = 'glimpse-min-confidence';

/**
 * The minimum confidence below which a result says "not sure" first (its guesses still shown):
 * the URL's `?minConfidence=` for this page, else the user's setting, else 0 (always sure).
 */
function storedMinimum(): number {
  // Checked as it is read: another tab, an extension or an old version may have written anything there.
  return parseMinConfidence(localStore()?.getItem(STORAGE_KEY)) ?? 0;
}

class Confidence {
  minimum = $state(minConfidenceFromUrl(globalThis.location?.search ?? '') ?? storedMinimum());

  set(value: number): void {
    if (!isMinConfidence(value)) return;
    this.minimum = value;
    localStore()?.setItem(STORAGE_KEY, String(value));
  }
}

export const confidence = new Confidence();
