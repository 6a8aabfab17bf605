import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendName, GpuProbe } from '../src/core/backends';

// The wasm binaries are served by our own host: nothing may be fetched from a CDN.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
});

/**
 * Only wasm, the usual winner, is in the worker's own chunk; the others are large and
 * often unused, so they are loaded when probed, forced or needed as a fallback.
 */
const registrations: Partial<Record<BackendName, Promise<unknown>>> = {};

function register(backend: BackendName): Promise<unknown> {
  if (backend === 'webgl') return (registrations.webgl ??= import('@tensorflow/tfjs-backend-webgl'));
  if (backend === 'webgpu') return (registrations.webgpu ??= import('@tensorflow/tfjs-backend-webgpu'));
  if (backend === 'cpu') return (registrations.cpu ??= import('@tensorflow/tfjs-backend-cpu'));
  return Promise.resolve();
}

function timeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  return Promise.race([promise, new Promise<T>((resolve) => setTimeout(() => resolve(fallback), ms))]);
}

/** setBackend() resolves false (or never) rather than throwing, so success is read back from tfjs. */
export async function activate(backend: BackendName, timeoutMs = 15_000): Promise<boolean> {
  try {
    await register(backend);
    const ok = await timeout(tf.setBackend(backend), timeoutMs, false);
    return ok && tf.getBackend() === backend;
  } catch {
    return false;
  }
}

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(): Promise<{ info?: AdapterInfoLike; isFallbackAdapter?: boolean } | null>;
}

const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|softpipe|software|basic render/i;

export async function probeWebGpu(): Promise<GpuProbe> {
  const gpu = (navigator as Navigator & { gpu?: GpuLike }).gpu;
  if (!gpu) return { backend: 'webgpu', kind: 'unavailable', device: 'no navigator.gpu' };
  const adapter = await timeout(
    gpu.requestAdapter().catch(() => null),
    5_000,
    null,
  );
  if (!adapter) return { backend: 'webgpu', kind: 'unavailable', device: 'no adapter' };
  const info = adapter.info ?? {};
  const device =
    [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
  const software =
    info.isFallbackAdapter === true || adapter.isFallbackAdapter === true || SOFTWARE_RENDERERS.test(device);
  return { backend: 'webgpu', kind: software ? 'software' : 'hardware', device };
}

export function probeWebGl(): GpuProbe {
  if (typeof OffscreenCanvas === 'undefined')
    return { backend: 'webgl', kind: 'unavailable', device: 'no OffscreenCanvas' };
  const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
  if (!gl) return { backend: 'webgl', kind: 'unavailable', device: 'no WebGL2 context' };
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const device = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return { backend: 'webgl', kind: SOFTWARE_RENDERERS.test(device) ? 'software' : 'hardware', device };
}

export async function probeGpus(): Promise<GpuProbe[]> {
  return [await probeWebGpu(), probeWebGl()];
}
