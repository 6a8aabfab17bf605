import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { WHOLE_IMAGE, viewRect, type ImageView } from '../src/core/augmentation';
import type { Pixels } from '../src/core/model-input';
import { downscaleTarget } from '../src/core/model-input';
import type { ModelSpec } from '../src/core/model-spec';

/** fetch() for file: URLs, so the worker's model loader runs unchanged in Node. */
export const fileFetch: typeof fetch = async (input) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.protocol !== 'file:') throw new TypeError(`fileFetch only reads file: URLs, not ${url.protocol}`);
  try {
    return new Response(await readFile(fileURLToPath(url)));
  } catch {
    return new Response(null, { status: 404 });
  }
};

/**
 * Decodes an image file the way the browser does before the shared preprocessing:
 * EXIF-upright, alpha flattened onto white, and big images shrunk with an
 * antialiased filter to downscaleTarget() (sharp here, canvas in the worker).
 */
export async function decodeImageFile(path: string, spec: ModelSpec, view: ImageView = WHOLE_IMAGE): Promise<Pixels> {
  const upright = sharp(path, { failOn: 'error' }).rotate();
  const { width = 0, height = 0 } = await upright
    .clone()
    .metadata()
    .then((m) => (m.orientation && m.orientation >= 5 ? { width: m.height, height: m.width } : m));
  const source = viewRect(view, width, height);
  // Training's augmentation looks at mirror images and crops too: cut from the upright pixels, unencoded.
  let image = upright;
  if (view !== WHOLE_IMAGE) {
    const { data, info } = await upright.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    image = sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).extract({
      left: source.x,
      top: source.y,
      width: source.width,
      height: source.height,
    });
    if (view.mirrored) image = image.flop();
  }
  const target = downscaleTarget(source.width, source.height, spec);
  const pipeline =
    target.width === source.width && target.height === source.height
      ? image
      : image.resize(target.width, target.height, { fit: 'fill' });
  const { data, info } = await pipeline
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    width: info.width,
    height: info.height,
    channels: 3,
  };
}
