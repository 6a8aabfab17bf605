import { del, get, set } from 'idb-keyval';
import { isBackendName, type GpuProbe } from '../src/core/backends';
import type { ChoiceMemory } from './backend-selector';

/**
 * Remembers the measured winner per device (user agent + GPU identity + model) in
 * IndexedDB, the only persistent store a worker has, so later visits skip the trial.
 * Storage that fails (a blocked or private context) just remembers nothing.
 */
export function deviceMemory(modelName: string, probes: readonly GpuProbe[]): ChoiceMemory {
  const key = [
    'glimpse-backend',
    modelName,
    navigator.userAgent,
    ...probes.map((p) => `${p.backend}:${p.kind}:${p.device}`),
  ].join('|');
  return {
    async recall() {
      const value: unknown = await get(key).catch(() => undefined);
      return isBackendName(value) ? value : undefined;
    },
    remember: (backend) => set(key, backend).catch(() => undefined),
    forget: () => del(key).catch(() => undefined),
  };
}
