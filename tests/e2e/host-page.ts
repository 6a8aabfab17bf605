import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from '../../harness/app-server';

const FIXTURES = resolve(import.meta.dirname, '../fixtures');

/**
 * A third-party page on another loopback origin that embeds Glimpse: `/` loads
 * embed.js from the app; `/fixtures/<name>` serves test photos from the host's origin;
 * `/blank.html` is an empty same-origin page for sibling frames; `/example.html` is examples/host.html.
 */
export async function startHostPage(
  appUrl: string,
  host = '127.0.0.2',
  port?: number,
): Promise<{ url: string; close: () => Promise<void> }> {
  port ??= await freePort(host);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end(`<!doctype html><title>host</title><div id="slot"></div><script src="${appUrl}embed.js"></script>`);
    } else if (path === '/example.html') {
      res
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(readFileSync(resolve(import.meta.dirname, '../../examples/host.html')));
    } else if (path === '/blank.html') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>sibling</title>');
    } else if (path.startsWith('/fixtures/')) {
      try {
        res
          .writeHead(200, { 'Content-Type': 'application/octet-stream' })
          .end(readFileSync(resolve(FIXTURES, path.slice('/fixtures/'.length))));
      } catch {
        res.writeHead(404).end();
      }
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(port, host, done));
  return { url: `http://${host}:${port}/`, close: () => new Promise((done) => server.close(() => done())) };
}
