import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import serveStatic from 'serve-static';
import { headersFor } from '../build/headers';
import type { Served } from './metrics';
import type { DeploySettings } from '../build/deploy-settings';

export interface HostOptions {
  dir: string;
  host: string;
  port: number;
  settings: DeploySettings;
  /** Told of every answered request, malformed ones included (the metrics). */
  onServed?: (served: Served) => void;
}

/**
 * The path of an origin-form request target (`/a/b?q`), or null for anything else
 * (`*`, absolute URLs, empty). It is never handed to `new URL`, which throws on
 * targets such as `//x:99999/` that are valid paths.
 */
export function requestPath(target: string | undefined): string | null {
  if (!target?.startsWith('/')) return null;
  return target.split(/[?#]/, 1)[0]!;
}

/** HTTP/1.1 requires exactly one Host header (RFC 9112 §3.2); Node keeps the first of several silently. */
function oneHost(req: IncomingMessage): boolean {
  const hosts = req.rawHeaders.filter((_, i) => i % 2 === 0).filter((name) => name.toLowerCase() === 'host').length;
  return hosts === 1 || (hosts === 0 && req.httpVersion === '1.0');
}

function plain(res: ServerResponse, status: number, extra: Record<string, string> = {}): void {
  const body = `${STATUS_CODES[status] ?? 'Error'}\n`;
  res
    .writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      ...extra,
    })
    .end(body);
}

/** A response written straight to the socket, for requests Node could not even parse. */
function rawResponse(status: number, headers: Record<string, string>): string {
  const lines = Object.entries({ ...headers, 'Content-Length': '0', Connection: 'close' }).map(
    ([name, value]) => `${name}: ${value}`,
  );
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * A thin static host for dist/: serve-static (the `send` library) serves the files with
 * MIME types, ETags and RFC 9110 ranges (416 when unsatisfiable, the whole file for
 * malformed or multiple ranges); this adds the headers from headers.ts to every
 * response, errors included, and answers every malformed request with a 4xx instead of
 * throwing. Unknown paths are 404, never index.html, so a missing model file can't load
 * as HTML; directories are never listed or redirected.
 */
export function serve({ dir, host, port, settings, onServed }: HostOptions): Promise<Server> {
  if (!existsSync(join(dir, 'index.html'))) throw new Error(`${dir} has no index.html: run npm run build first`);
  const files = serveStatic(dir, {
    cacheControl: false,
    dotfiles: 'ignore',
    fallthrough: false,
    redirect: false,
    index: ['index.html'],
  });

  function observe(req: IncomingMessage, res: ServerResponse, pathname: string | null): void {
    if (!onServed) return;
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const length = Number(res.getHeader('content-length') ?? 0);
      const sent = res.writableFinished && req.method !== 'HEAD' && Number.isFinite(length) ? length : 0;
      onServed({
        pathname,
        method: req.method ?? '',
        status: res.statusCode,
        seconds: Number(process.hrtime.bigint() - started) / 1e9,
        bytes: sent,
      });
    });
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const pathname = requestPath(req.url);
    observe(req, res, pathname);
    for (const [name, value] of Object.entries(headersFor(pathname ?? '/', settings))) res.setHeader(name, value);
    if (pathname === null || !oneHost(req)) return plain(res, 400);
    if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, { Allow: 'GET, HEAD' });
    files(req, res, (error?: { status?: number; statusCode?: number; headers?: Record<string, string> }) => {
      if (res.headersSent) return void res.destroy();
      const status = error?.status ?? error?.statusCode ?? 404;
      plain(res, status >= 400 && status < 600 ? status : 500, error?.headers ?? {});
    });
  }

  // Node's own 400 for a missing Host would carry none of the headers: the handler refuses it instead.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    try {
      handle(req, res);
    } catch {
      if (res.headersSent) res.destroy();
      else plain(res, 500);
    }
  });
  // Node's own answer to an unparsable request carries none of the security headers.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') return void socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    socket.end(rawResponse(status, headersFor('/', settings)));
    onServed?.({ pathname: null, method: '', status, seconds: 0, bytes: 0 });
  });
  // Without these listeners Node drops CONNECT and Upgrade requests without a word.
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    socket.end(rawResponse(405, { ...headersFor('/', settings), Allow: 'GET, HEAD' }));
    onServed?.({ pathname: null, method: req.method ?? '', status: 405, seconds: 0, bytes: 0 });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    socket.end(rawResponse(400, headersFor('/', settings)));
    onServed?.({ pathname: null, method: req.method ?? '', status: 400, seconds: 0, bytes: 0 });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
