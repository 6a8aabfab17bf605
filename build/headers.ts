import type { DeploySettings } from './deploy-settings';

/**
 * The response headers Glimpse is served with, per path: the one source of truth for
 * `npm start`'s server and for the generated nginx config.
 */

const OTHER_DIRECTIVES = [
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "style-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
];

export const EMBED_PAGE = '/embed.html';
/** The helper host pages load with a <script> tag from another origin. */
export const EMBED_HELPER = '/embed.js';

export function frameAncestors(pathname: string, settings: DeploySettings): string {
  if (pathname !== EMBED_PAGE) return "'none'";
  return settings.embedOrigins === '*' ? '*' : settings.embedOrigins.join(' ');
}

export type CacheClass = 'immutable' | 'revalidate';

/** Vite content-hashes everything under /assets/; every other path may change between deploys. */
export function cacheClass(pathname: string): CacheClass {
  return pathname.startsWith('/assets/') ? 'immutable' : 'revalidate';
}

export const CACHE_CONTROL: Record<CacheClass, string> = {
  immutable: 'public, max-age=31536000, immutable',
  revalidate: 'no-cache',
};

/** The CSP every page carries, but frame-ancestors (which only a header can set). */
function pageDirectives(settings: DeploySettings): string[] {
  return [
    "default-src 'none'",
    // tfjs-backend-wasm compiles its module at run time. Its pthreads (which exist only under
    // isolation) are blob: workers that import a blob: copy of its glue code.
    settings.isolate ? "script-src 'self' 'wasm-unsafe-eval' blob:" : "script-src 'self' 'wasm-unsafe-eval'",
    settings.isolate ? "worker-src 'self' blob:" : "worker-src 'self'",
    ...OTHER_DIRECTIVES,
  ];
}

/**
 * The same policy for a <meta> tag in each page, for hosts that cannot send headers
 * (GitHub Pages): everything but frame-ancestors, which browsers ignore in <meta>.
 */
export function metaContentSecurityPolicy(settings: DeploySettings): string {
  return pageDirectives(settings).join('; ');
}

export function headersFor(pathname: string, settings: DeploySettings): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Security-Policy': [
      ...pageDirectives(settings),
      `frame-ancestors ${frameAncestors(pathname, settings)}`,
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Permissions-Policy': 'camera=(self), microphone=(), geolocation=(), payment=(), usb=()',
    'Cache-Control': CACHE_CONTROL[cacheClass(pathname)],
    // Browsers ignore COOP in frames, so it is safe on embed.html too.
    'Cross-Origin-Opener-Policy': 'same-origin',
  };
  if (settings.isolate) headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
  // embed.js and embed.html are meant to be loaded by other origins.
  headers['Cross-Origin-Resource-Policy'] =
    pathname === EMBED_HELPER || pathname === EMBED_PAGE ? 'cross-origin' : 'same-origin';
  return headers;
}
