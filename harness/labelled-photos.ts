import { resolve } from 'node:path';
import sharp from 'sharp';

export const CLASS_PHOTOS: Record<string, string> = { parrot: 'parrot.jpg', hotdog: 'hot_dog.jpg', cat: 'cat.png' };

/**
 * Labelled training images made at test time from the committed photos: `count` variants of
 * each (crops at different places and sizes, mirrored, brighter or darker), `size` pixels square, as PNG.
 */
export async function labelledVariants(
  fixtures: string,
  count: number,
  offset = 0,
  size = 160,
): Promise<{ label: string; name: string; buffer: Buffer }[]> {
  const out: { label: string; name: string; buffer: Buffer }[] = [];
  for (const [label, photo] of Object.entries(CLASS_PHOTOS)) {
    const source = sharp(resolve(fixtures, photo));
    const { width = 0, height = 0 } = await source.metadata();
    for (let i = offset; i < offset + count; i++) {
      const scale = 0.6 + 0.04 * (i % 10);
      const side = Math.round(Math.min(width, height) * scale);
      const left = Math.round(((width - side) * ((i * 37) % 100)) / 100);
      const top = Math.round(((height - side) * ((i * 53) % 100)) / 100);
      let image = sharp(resolve(fixtures, photo)).extract({ left, top, width: side, height: side }).resize(size, size);
      if (i % 2) image = image.flop();
      image = image.modulate({ brightness: 0.8 + 0.05 * (i % 8) });
      out.push({ label, name: `${label}__${i}.png`, buffer: await image.removeAlpha().png().toBuffer() });
    }
  }
  return out;
}
