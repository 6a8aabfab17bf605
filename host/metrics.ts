import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { EMBED_HELPER, EMBED_PAGE } from '../build/headers';

/**
 * What an operator of the static host can watch: requests, latency, bytes and model downloads.
 * Every label value comes from a small fixed set known when the host starts: never a raw path,
 * query string, header or client address, so a scraper's series stay few and nothing about a
 * visitor is recorded (the host never sees a photo: inference runs in the browser).
 */

export const ROUTES = ['shell', 'model', 'engine-wasm', 'embed', 'service-worker', 'other'] as const;
export type Route = (typeof ROUTES)[number];

/** The files whose full download means a model was downloaded: its graph (the weights come with it). */
const MODEL_GRAPH_FILES = new Set(['model.json', 'model.onnx']);
const SHELL_FILES = new Set(['/', '/index.html', '/manifest.webmanifest', '/favicon.svg']);

export function routeOf(pathname: string | null): Route {
  if (pathname === null) return 'other';
  if (SHELL_FILES.has(pathname) || pathname.startsWith('/icons/')) return 'shell';
  if (pathname === EMBED_PAGE || pathname === EMBED_HELPER || pathname === '/embed-early.js') return 'embed';
  if (pathname === '/sw.js') return 'service-worker';
  if (pathname.startsWith('/model/') || pathname.startsWith('/models/')) return 'model';
  if (pathname.startsWith('/assets/')) return pathname.endsWith('.wasm') ? 'engine-wasm' : 'shell';
  return 'other';
}

/** A shipped model: its id (`default` for /model/, the catalogue id for /models/<id>/) and version. */
export interface ShippedModel {
  id: string;
  version: string;
}

function manifestVersion(folder: string): string | null {
  try {
    const version = (JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as { version?: unknown }).version;
    return typeof version === 'string' && /^[\w.-]{1,64}$/.test(version) ? version : null;
  } catch {
    return null;
  }
}

/** The models a built site serves, keyed by their folder's URL path (`/model/`, `/models/<id>/`). */
export function shippedModels(dist: string): Map<string, ShippedModel> {
  const models = new Map<string, ShippedModel>();
  const add = (prefix: string, id: string, folder: string) => {
    const version = manifestVersion(folder);
    if (version) models.set(prefix, { id, version });
  };
  add('/model/', 'default', join(dist, 'model'));
  const shelf = join(dist, 'models');
  if (existsSync(shelf)) {
    for (const entry of readdirSync(shelf, { withFileTypes: true })) {
      if (entry.isDirectory() && /^[\w-]{1,64}$/.test(entry.name))
        add(`/models/${entry.name}/`, entry.name, join(shelf, entry.name));
    }
  }
  return models;
}

/** The shipped model a request downloads in full, or null (other files, unknown folders, partial or cached answers). */
export function modelDownloaded(
  pathname: string | null,
  status: number,
  models: Map<string, ShippedModel>,
): ShippedModel | null {
  if (pathname === null || status !== 200) return null;
  const slash = pathname.lastIndexOf('/');
  if (!MODEL_GRAPH_FILES.has(pathname.slice(slash + 1))) return null;
  return models.get(pathname.slice(0, slash + 1)) ?? null;
}

export interface Served {
  pathname: string | null;
  method: string;
  status: number;
  seconds: number;
  /** Body bytes sent (0 for HEAD, 304 and errors the client never got). */
  bytes: number;
}

export interface HostMetrics {
  registry: Registry;
  record(served: Served): void;
}

export function createHostMetrics(dist: string): HostMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'glimpse_http_requests_total',
    help: 'HTTP requests answered, by route and status',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'glimpse_http_request_duration_seconds',
    help: 'Time from request to the last byte handed to the socket, by route',
    labelNames: ['route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'glimpse_http_response_bytes_total',
    help: 'Response body bytes sent, by route',
    labelNames: ['route'],
    registers: [registry],
  });
  const downloads = new Counter({
    name: 'glimpse_model_downloads_total',
    help: "Full downloads of a shipped model's graph, by model and version",
    labelNames: ['model', 'version'],
    registers: [registry],
  });
  const models = shippedModels(dist);
  // Every series exists from the start, so a dashboard shows 0 rather than no data.
  for (const route of ROUTES) {
    duration.zero({ route });
    bytes.inc({ route }, 0);
  }
  for (const { id, version } of models.values()) downloads.inc({ model: id, version }, 0);

  return {
    registry,
    record({ pathname, method, status, seconds, bytes: sent }) {
      const route = routeOf(pathname);
      // Statuses are three digits by construction; anything else is folded, so no value is unbounded.
      requests.inc({ route, status: status >= 100 && status < 600 ? String(status) : 'other' });
      duration.observe({ route }, seconds);
      bytes.inc({ route }, sent);
      const model = method === 'GET' ? modelDownloaded(pathname, status, models) : null;
      if (model) downloads.inc({ model: model.id, version: model.version });
    },
  };
}

/** The scrape endpoint, on a port of its own so that the public port never exposes it: `GET /metrics`, else 404. */
export function serveMetrics(metrics: HostMetrics, host: string, port: number): Promise<Server> {
  const server = createServer((req, res) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    if (req.url?.split('?', 1)[0] !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not Found\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) =>
        res
          .writeHead(200, { 'Content-Type': metrics.registry.contentType })
          .end(req.method === 'HEAD' ? undefined : text),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** METRICS_PORT as a port number, or null when unset; anything else is refused by name. */
export function metricsPort(value: string | undefined, appPort: number): number | null {
  if (value === undefined || value === '') return null;
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port < 1 || port > 65535)
    throw new Error(`METRICS_PORT: "${value}" is not a port number (1–65535)`);
  if (port === appPort)
    throw new Error(`METRICS_PORT: ${port} is the site's own port; metrics need a port of their own`);
  return port;
}
