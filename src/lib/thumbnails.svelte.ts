import { SvelteMap } from 'svelte/reactivity';

/** Thumbnail side in CSS pixels × 2 for sharp screens. */
const SIDE = 96;
/** Decodes at once: a photo's decode is the browser's, off the main thread; two keep both cores busy without a queue of full-size bitmaps. */
const CONCURRENT = 2;

/**
 * Small thumbnails (JPEG, a few kB) of the photos a list shows, made when they scroll into
 * view and kept by key: thousands of photos cost kilobytes each, never an `<img>` of the
 * original or a full-size bitmap held. A photo that scrolls away before its turn is skipped.
 */
class Thumbnails {
  readonly urls = new SvelteMap<string, string>();
  private readonly wanted = new Map<string, Blob>();
  private running = 0;

  want(key: string, file: Blob): void {
    if (this.urls.has(key)) return;
    this.wanted.set(key, file);
    this.pump();
  }

  unwant(key: string): void {
    this.wanted.delete(key);
  }

  forget(key: string): void {
    const url = this.urls.get(key);
    if (url) URL.revokeObjectURL(url);
    this.urls.delete(key);
    this.wanted.delete(key);
  }

  private pump(): void {
    while (this.running < CONCURRENT && this.wanted.size > 0) {
      const [key, file] = this.wanted.entries().next().value!;
      this.wanted.delete(key);
      this.running++;
      void thumbnail(file)
        .then((blob) => this.urls.set(key, URL.createObjectURL(blob)))
        .catch(() => undefined)
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }
}

/** Decoded and scaled by the browser off the main thread (only the width given: the height keeps the aspect), then cropped square. */
async function thumbnail(file: Blob): Promise<Blob> {
  const bitmap = await createImageBitmap(file, {
    imageOrientation: 'from-image',
    resizeWidth: 2 * SIDE,
    resizeQuality: 'medium',
  });
  try {
    const side = Math.min(bitmap.width, bitmap.height);
    const canvas = new OffscreenCanvas(SIDE, SIDE);
    const context = canvas.getContext('2d')!;
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, SIDE, SIDE);
    return await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
  } finally {
    bitmap.close();
  }
}

export const thumbnails = new Thumbnails();
