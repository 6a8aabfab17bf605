import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(resolve(ROOT, path), 'utf8');

/** The architecture page is where a newcomer starts: it must not fall behind the code it describes. */
describe('docs/ARCHITECTURE.md', () => {
  const doc = read('docs/ARCHITECTURE.md');

  it('names every build-time constant vite.config.ts defines', () => {
    const defined = [...read('vite.config.ts').matchAll(/^\s+(__GLIMPSE_\w+__):/gm)].map((m) => m[1]!);
    expect(defined.length).toBeGreaterThan(0);
    expect(defined.filter((name) => !doc.includes(name))).toEqual([]);
  });

  it('names every model tool that package.json runs', () => {
    const tools = [...read('package.json').matchAll(/tsx tools\/(\w+)\.ts/g)].map((m) => m[1]!);
    expect(tools.length).toBeGreaterThan(0);
    expect(tools.filter((tool) => !new RegExp(`tools/ \\([^)]*\\b${tool}\\b`).test(doc))).toEqual([]);
  });
});
