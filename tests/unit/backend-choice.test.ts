import { describe, expect, it } from 'vitest';
import type { GpuProbe } from '../../src/core/backends';
import { median } from '../../src/core/stats';
import { fallbackOrder, fastest, skippedByProbe, trialCandidates } from '../../model/backend-choice';

const swiftshader: GpuProbe[] = [
  { backend: 'webgpu', kind: 'software', device: 'google swiftshader' },
  { backend: 'webgl', kind: 'software', device: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device))' },
];
const realGpu: GpuProbe[] = [
  { backend: 'webgpu', kind: 'hardware', device: 'nvidia hopper' },
  { backend: 'webgl', kind: 'hardware', device: 'ANGLE (NVIDIA H100)' },
];

describe('backend choice', () => {
  it('does not trial software GPUs and says why they were skipped', () => {
    expect(trialCandidates(swiftshader)).toEqual([]);
    expect(skippedByProbe(swiftshader)).toEqual({
      webgpu: 'software: google swiftshader',
      webgl: 'software: ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device))',
    });
  });

  it('trials hardware GPUs in probe order, and skips unavailable ones', () => {
    expect(trialCandidates(realGpu)).toEqual(['webgpu', 'webgl']);
    expect(trialCandidates([...realGpu].reverse())).toEqual(['webgl', 'webgpu']);
    expect(trialCandidates([{ backend: 'webgpu', kind: 'unavailable', device: 'no adapter' }, realGpu[1]!])).toEqual([
      'webgl',
    ]);
  });

  it('keeps the current backend unless a candidate is clearly faster', () => {
    expect(fastest('wasm', { wasm: 55, webgl: 430, webgpu: 4070 })).toBe('wasm');
    expect(fastest('wasm', { wasm: 55, webgl: 52 })).toBe('wasm');
    expect(fastest('wasm', { wasm: 55, webgl: 12, webgpu: 6 })).toBe('webgpu');
    expect(fastest('wasm', { wasm: 55, webgpu: Infinity })).toBe('wasm');
  });

  it('falls back through wasm, then cpu, then the GPUs', () => {
    expect(fallbackOrder('webgpu')).toEqual(['webgpu', 'wasm', 'cpu', 'webgl']);
    expect(fallbackOrder('wasm')).toEqual(['wasm', 'cpu', 'webgl', 'webgpu']);
  });

  it('takes medians of odd and even counts', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });
});
