/**
 * Content types of receipts and similar files, decided by extension: a stored content type is
 * whatever the uploader sent, and the connector must know whether it may return text.
 */
const BY_EXTENSION: Readonly<Record<string, string>> = {
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json',
  xml: 'application/xml',
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
  eml: 'message/rfc822',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  heic: 'image/heic',
};

/** The generic binary type, used for anything not recognised. */
export const BINARY_CONTENT_TYPE = 'application/octet-stream';

/**
 * The content type of a file, from its key's extension.
 * @param stored the type the store recorded, used only when the extension says nothing
 */
export function contentTypeOf(key: string, stored?: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
  return BY_EXTENSION[extension] ?? (stored?.trim() || BINARY_CONTENT_TYPE);
}

/** True when content of this type is returned as UTF-8 text rather than base64. */
export function isTextContentType(contentType: string): boolean {
  const type = contentType.split(';')[0].trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type === 'application/xml' ||
    type.endsWith('+json') ||
    type.endsWith('+xml')
  );
}
