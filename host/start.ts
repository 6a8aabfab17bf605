import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serve } from './serve';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');
const SOURCES = ['src', 'workers', 'public', 'index.html', 'vite.config.ts', 'package.json'];

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Builds only when dist/ is missing or older than a source file, so a restart is instant. */
function buildIfNeeded(): void {
  const built = join(dist, 'index.html');
  const stale = !existsSync(built) || SOURCES.some((s) => existsSync(join(root, s)) && newestMtime(join(root, s)) > statSync(built).mtimeMs);
  if (!stale) return;
  console.log('Building Glimpse…');
  const result = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

buildIfNeeded();
const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT || 4173);
const server = await serve({ dir: dist, host, port });
console.log(`Glimpse is being served at http://${host}:${port}/`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
