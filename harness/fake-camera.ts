import { writeFileSync } from 'node:fs';
import sharp from 'sharp';

/**
 * A Y4M video (what Chromium's fake camera plays, in a loop) of one photo, made at test
 * time so that no video is committed: `frames` identical 4:2:0 frames, full-range BT.601.
 */
export async function photoToY4m(photo: string, out: string, width = 320, height = 240, frames = 10): Promise<void> {
  const rgb = await sharp(photo)
    .resize(width, height, { fit: 'contain', background: '#808080' })
    .removeAlpha()
    .raw()
    .toBuffer();
  const y = Buffer.alloc(width * height);
  const u = Buffer.alloc((width / 2) * (height / 2));
  const v = Buffer.alloc((width / 2) * (height / 2));
  const clamp = (x: number) => Math.max(0, Math.min(255, Math.round(x)));
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const i = (row * width + col) * 3;
      const [r, g, b] = [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
      y[row * width + col] = clamp(0.299 * r + 0.587 * g + 0.114 * b);
      if (row % 2 === 0 && col % 2 === 0) {
        const c = (row / 2) * (width / 2) + col / 2;
        u[c] = clamp(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
        v[c] = clamp(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
      }
    }
  }
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, u, v]);
  writeFileSync(
    out,
    Buffer.concat([
      Buffer.from(`YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420jpeg\n`),
      ...Array.from({ length: frames }, () => frame),
    ]),
  );
}
