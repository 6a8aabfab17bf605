import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildStamp, SETTINGS_STAMP } from '../../build/app';
import { isStale, lastBuildSources, modelSources } from '../../host/served-build';
import { DEFAULT_SETTINGS } from '../../build/deploy-settings';

/** A dist/ whose stamp says it was built for `model` and `models`, newer than every source. */
function builtDist(model?: string, models?: string): string {
  const dist = mkdtempSync(join(tmpdir(), 'glimpse-dist-'));
  writeFileSync(join(dist, SETTINGS_STAMP), buildStamp(DEFAULT_SETTINGS, model, models));
  return dist;
}

describe('what npm start serves', () => {
  it('is what the last build was for, unless GLIMPSE_MODEL or GLIMPSE_MODELS says otherwise', () => {
    const last = { model: '/m/tm', models: '/m/shipped' };
    expect(modelSources({}, last)).toEqual(last);
    expect(modelSources({ GLIMPSE_MODEL: '', GLIMPSE_MODELS: '' }, last)).toEqual(last);
    expect(modelSources({ GLIMPSE_MODELS: '/other' }, last)).toEqual({ model: undefined, models: '/other' });
    expect(modelSources({ GLIMPSE_MODEL: '/x.tflite' }, last)).toEqual({ model: '/x.tflite', models: undefined });
    expect(modelSources({}, null)).toEqual({});
  });

  it('reads the last build’s models from its stamp, and nothing from a missing or damaged one', () => {
    const models = mkdtempSync(join(tmpdir(), 'glimpse-models-'));
    expect(lastBuildSources(builtDist(undefined, models))).toEqual({ model: undefined, models });
    expect(lastBuildSources(mkdtempSync(join(tmpdir(), 'glimpse-empty-')))).toBeNull();
    const damaged = builtDist();
    writeFileSync(join(damaged, SETTINGS_STAMP), '{');
    expect(lastBuildSources(damaged)).toBeNull();
  });

  it('rebuilds for other models or settings, and when a model folder changed after the build', () => {
    const models = mkdtempSync(join(tmpdir(), 'glimpse-models-'));
    const dist = builtDist(undefined, models);
    expect(isStale(dist, DEFAULT_SETTINGS, { models })).toBe(false);
    expect(isStale(dist, DEFAULT_SETTINGS, {})).toBe(true);
    expect(isStale(dist, { ...DEFAULT_SETTINGS, isolate: true }, { models })).toBe(true);
    mkdirSync(join(models, 'v2'));
    writeFileSync(join(models, 'v2', 'model.tflite'), 'newer than the build');
    // File times can be coarser than the gap between two writes: make "newer" certain.
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(models, 'v2', 'model.tflite'), later, later);
    expect(isStale(dist, DEFAULT_SETTINGS, { models })).toBe(true);
  });
});
