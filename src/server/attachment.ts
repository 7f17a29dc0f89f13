// Content-Disposition for downloads (RFC 6266): a quoted ASCII fallback for old clients and
// the exact UTF-8 name in filename* (RFC 8187) for the rest.

export function attachmentHeader(filename: string): string {
  return `attachment; filename="${asciiFallback(filename)}"; filename*=UTF-8''${encodeRfc8187(filename)}`;
}

function asciiFallback(filename: string): string {
  const ascii = filename
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    // Compatibility forms (fullwidth "／" becomes "/") are folded first, so separators are
    // replaced after: a fallback name never carries a path.
    .replace(/[^\x20-\x7e]|["\\%/]/g, '_');
  return ascii.trim() || 'download';
}

function encodeRfc8187(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
