import { sniffType } from './sdk.js';

// Previews of photos, made in this browser before upload (the server never sees the image) and
// sent encrypted as the attachment's `thumbnail` (PROTOCOL.md §8.2).

/** The longest side of a preview, in CSS pixels. */
export const THUMBNAIL_PX = 160;
/** The most a preview may weigh: lower JPEG qualities are tried until it fits. */
export const THUMBNAIL_MAX_BYTES = 16 * 1024;
const QUALITIES = [0.75, 0.55, 0.35];
/** Types the browser decodes and a preview is made of, by their first bytes (not the name). */
const IMAGES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);

/**
 * A JPEG of at most 160 px a side and 16 KiB, of a photo; undefined for anything else (a file that
 * is not an image by its content, one the browser cannot decode, or a preview that cannot be
 * made small enough).
 */
export async function makeThumbnail(file: Blob): Promise<Uint8Array | undefined> {
  const type = sniffType(new Uint8Array(await file.slice(0, 16).arrayBuffer()));
  if (!IMAGES.has(type)) return undefined;
  let image: ImageBitmap;
  try {
    image = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    return undefined;
  }
  try {
    const scale = Math.min(1, THUMBNAIL_PX / Math.max(image.width, image.height));
    const canvas = new OffscreenCanvas(
      Math.max(1, Math.round(image.width * scale)),
      Math.max(1, Math.round(image.height * scale)),
    );
    const context = canvas.getContext('2d');
    if (!context) return undefined;
    context.drawImage(image, 0, 0, canvas.width, canvas.height);
    for (const quality of QUALITIES) {
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality });
      if (blob.size <= THUMBNAIL_MAX_BYTES) return new Uint8Array(await blob.arrayBuffer());
    }
    return undefined;
  } finally {
    image.close();
  }
}

/** Types a decrypted preview is shown as: by its content, and only an image. */
export const previewable = (type: string): boolean => IMAGES.has(type);
