import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { headersFor } from './headers';
import type { DeploySettings } from './deploy-settings';

/**
 * Header files for static hosts that read them (Netlify and Cloudflare Pages `_headers`,
 * `vercel.json`, `firebase.json`), from the same header list as `npm start` and nginx.
 * Those hosts combine the headers of every rule that matches a path (a header set twice
 * becomes one comma-joined value, two CSPs that both apply), so the rules never overlap:
 * one per file at the top of the site and one per folder.
 */
export interface Route {
  /** `/name` for a file, `/name/` for everything under a folder. */
  path: string;
  folder: boolean;
}

export function siteRoutes(dist: string): Route[] {
  const entries = readdirSync(dist)
    .filter((name) => !name.startsWith('.') && name !== '_headers')
    .sort()
    .map((name) =>
      statSync(join(dist, name)).isDirectory()
        ? { path: `/${name}/`, folder: true }
        : { path: `/${name}`, folder: false },
    );
  return [{ path: '/', folder: false }, ...entries];
}

const headerList = (route: Route, settings: DeploySettings) => Object.entries(headersFor(route.path, settings));

export function renderHeadersFile(routes: readonly Route[], settings: DeploySettings): string {
  const blocks = routes.map((route) =>
    [
      route.folder ? `${route.path}*` : route.path,
      ...headerList(route, settings).map(([name, value]) => `  ${name}: ${value}`),
    ].join('\n'),
  );
  return `# Netlify / Cloudflare Pages headers, generated from build/headers.ts (npm run deploy-configs).\n${blocks.join('\n')}\n`;
}

export function renderVercelJson(routes: readonly Route[], settings: DeploySettings): string {
  const headers = routes.map((route) => ({
    source: route.folder ? `${route.path}:path*` : route.path,
    headers: headerList(route, settings).map(([key, value]) => ({ key, value })),
  }));
  return `${JSON.stringify({ outputDirectory: 'dist', cleanUrls: false, trailingSlash: false, headers }, null, 2)}\n`;
}

export function renderFirebaseJson(routes: readonly Route[], settings: DeploySettings): string {
  const headers = routes.map((route) => ({
    source: route.folder ? `${route.path}**` : route.path,
    headers: headerList(route, settings).map(([key, value]) => ({ key, value })),
  }));
  return `${JSON.stringify({ hosting: { public: 'dist', cleanUrls: false, trailingSlash: false, headers } }, null, 2)}\n`;
}
