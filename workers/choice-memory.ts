import { get, set, del } from 'idb-keyval';
import { isBackendName, type BackendName, type GpuProbe } from './backend-choice';

/**
 * Remembers the measured winner per device (user agent + GPU identity + model) in
 * IndexedDB, the only persistent store a worker has, so later visits skip the trial.
 */
export function deviceKey(modelName: string, probes: readonly GpuProbe[]): string {
  return ['glimpse-backend', modelName, navigator.userAgent, ...probes.map((p) => `${p.backend}:${p.kind}:${p.device}`)].join('|');
}

export async function recall(key: string): Promise<BackendName | undefined> {
  try {
    const value: unknown = await get(key);
    return isBackendName(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export async function remember(key: string, backend: BackendName): Promise<void> {
  await set(key, backend).catch(() => undefined);
}

export async function forget(key: string): Promise<void> {
  await del(key).catch(() => undefined);
}
