/**
 * The response headers Glimpse is served with: the one source of truth for
 * `npm start`'s server (and for the production nginx config).
 */

export const CSP = [
  "default-src 'none'",
  // tfjs-backend-wasm compiles its module at run time.
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "style-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Permissions-Policy': 'camera=(self), microphone=(), geolocation=(), payment=(), usb=()',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

export const NO_CACHE = 'no-cache';
export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Vite content-hashes everything under assets/; every other path may change between deploys. */
export function cacheControl(pathname: string): string {
  return pathname.startsWith('/assets/') ? IMMUTABLE : NO_CACHE;
}
