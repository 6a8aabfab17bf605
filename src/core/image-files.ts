/** File names of the image formats Glimpse reads, where a folder is scanned for images (evaluation, training, the CLIs). */
const IMAGE_FILE_NAME = /\.(jpe?g|png|webp|gif|bmp|avif)$/i;

export function isImageFileName(name: string): boolean {
  return IMAGE_FILE_NAME.test(name);
}
