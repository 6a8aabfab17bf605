import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildApp, releaseLabel } from '../build/app';
import { createHostMetrics, metricsPort, serveMetrics } from './metrics';
import { serve } from './serve';
import { describeServed, isStale, lastBuildSources, modelSources } from './served-build';
import { readSettings } from '../build/deploy-settings';

const { values } = parseArgs({
  options: { 'out-dir': { type: 'string', default: join(resolve(import.meta.dirname, '..'), 'dist') } },
});
const dist = resolve(values['out-dir']);
const settings = readSettings();
// GLIMPSE_MODEL (a folder, .zip or .tflite) and GLIMPSE_MODELS (a folder of them), else the last build's.
const sources = modelSources(process.env, lastBuildSources(dist));
if (isStale(dist, settings, sources)) {
  for (const [name, path] of [
    ['model', sources.model],
    ['models', sources.models],
  ] as const) {
    if (path && !existsSync(path))
      throw new Error(
        `The ${name} to build the site with, ${path}, is gone: set GLIMPSE_MODEL / GLIMPSE_MODELS, or run npm run build`,
      );
  }
  console.log('Building Glimpse…');
  await buildApp(dist, settings, releaseLabel(), sources.model, sources.models);
}
for (const line of describeServed(dist, sources)) console.log(line);
const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 4173);
// METRICS_PORT: Prometheus metrics on a port of their own, on METRICS_HOST (default loopback: scrapers are local or trusted).
const scrapePort = metricsPort(process.env.METRICS_PORT, port);
const metricsHost = process.env.METRICS_HOST || '127.0.0.1';
const metrics = scrapePort === null ? null : createHostMetrics(dist);
const server = await serve({ dir: dist, host, port, settings, onServed: metrics?.record });
const metricsServer = metrics && (await serveMetrics(metrics, metricsHost, scrapePort!));
if (metricsServer) console.log(`Metrics: http://${metricsHost}:${scrapePort}/metrics`);
console.log(`Glimpse is being served at http://${host}:${port}/`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    metricsServer?.close();
    server.close(() => process.exit(0));
  });
}
