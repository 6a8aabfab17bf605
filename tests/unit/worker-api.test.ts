import { describe, expect, it, vi } from 'vitest';
import { api } from '../../workers/api';

// The browser's backends (self-hosted wasm, GPUs) are not what these tests are about.
vi.mock('../../workers/backends', () => ({ activate: async () => true, probeGpus: async () => [] }));

/** The worker's API before and around loading: bad requests are refused by name, and a bitmap is always closed. */
describe('the worker API', () => {
  const bitmap = () =>
    ({ close: vi.fn(), width: 10, height: 10 }) as unknown as ImageBitmap & { close: ReturnType<typeof vi.fn> };

  it('refuses to classify before a model is loaded, closing the bitmap it was given', async () => {
    const image = bitmap();
    await expect(api.classify(image, 5)).rejects.toMatchObject({ name: 'ModelLoadError' });
    expect(image.close).toHaveBeenCalledOnce();
  });

  it('refuses an unknown backend by name, before fetching anything', async () => {
    const fetch = vi.spyOn(globalThis, 'fetch');
    await expect(
      api.load('https://glimpse.test/model/', () => undefined, { backend: 'quantum' as never }),
    ).rejects.toMatchObject({ name: 'BadRequestError' });
    expect(fetch).not.toHaveBeenCalled();
    fetch.mockRestore();
  });

  it('refuses a backend switch, the labels and the info before a model is loaded', async () => {
    await expect(api.setBackend('wasm')).rejects.toMatchObject({ name: 'ModelLoadError' });
    await expect(api.labels()).rejects.toMatchObject({ name: 'ModelLoadError' });
    await expect(api.info()).rejects.toMatchObject({ name: 'ModelLoadError' });
  });

  it('forgets a failed load, so that a retry starts afresh', async () => {
    const fetch = vi.spyOn(globalThis, 'fetch').mockResolvedValue(new Response('gone', { status: 404 }));
    await expect(api.load('https://glimpse.test/model/', () => undefined)).rejects.toMatchObject({
      name: 'ModelLoadError',
    });
    await expect(api.load('https://glimpse.test/model/', () => undefined)).rejects.toMatchObject({
      name: 'ModelLoadError',
    });
    expect(fetch.mock.calls.filter(([url]) => String(url).endsWith('manifest.json'))).toHaveLength(2);
    fetch.mockRestore();
  });
});
