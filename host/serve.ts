import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import sirv from 'sirv';
import { headersFor } from './headers';
import type { DeploySettings } from './settings';

export interface HostOptions {
  dir: string;
  host: string;
  port: number;
  settings: DeploySettings;
}

/**
 * A thin static host for dist/: sirv serves the files (MIME types, ETags, ranges);
 * this adds the headers from headers.ts to every response, errors included.
 * Unknown paths are 404, never index.html, so a missing model file can't load as HTML.
 */
export function serve({ dir, host, port, settings }: HostOptions): Promise<Server> {
  if (!existsSync(join(dir, 'index.html'))) throw new Error(`${dir} has no index.html: run npm run build first`);
  const files = sirv(dir, { dev: false, etag: true, dotfiles: false });
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://host').pathname;
    for (const [name, value] of Object.entries(headersFor(pathname, settings))) res.setHeader(name, value);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('Method Not Allowed\n');
      return;
    }
    files(req, res, () => {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not Found\n');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
