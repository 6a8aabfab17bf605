import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
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

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

/** Markdown links outside code, as [text](target). */
function linksIn(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

const headingsOf = (markdown: string) =>
  markdown
    .replace(/```[\s\S]*?```/g, '')
    .split('\n')
    .filter((l) => /^#{1,6} /.test(l))
    .map((l) => anchorOf(l.replace(/^#+ /, '')));

/** The README and every page in docs/. */
const pages = [
  'README.md',
  ...readdirSync(resolve(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('the README and docs/', () => {
  it('fit the README on one screen: what Glimpse is, the two commands, what you can do, where to read more', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThanOrEqual(60);
    expect(readme.length).toBeLessThanOrEqual(4_000);
    for (const heading of ['## Two commands', '## What you can do', '## Read more']) expect(readme).toContain(heading);
  });

  it('link only to files and headings that exist', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of pages) {
      for (const link of linksIn(read(page))) {
        if (/^[a-z]+:/i.test(link)) continue;
        checked++;
        const [path, anchor] = link.split('#') as [string, string | undefined];
        const target = path ? relative(ROOT, resolve(ROOT, dirname(page), path)) : page;
        if (!existsSync(resolve(ROOT, target))) broken.push(`${page}: ${link} (no ${target})`);
        else if (anchor && target.endsWith('.md') && !headingsOf(read(target)).includes(anchor))
          broken.push(`${page}: ${link} (no heading #${anchor} in ${target})`);
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(15);
  });

  it('link every page in docs/ from the README', () => {
    const linked = linksIn(read('README.md')).map((l) => l.split('#')[0]);
    expect(pages.filter((p) => p !== 'README.md' && !linked.includes(p))).toEqual([]);
  });
});

describe('docs/ARCHITECTURE.md, against the tree', () => {
  const doc = read('docs/ARCHITECTURE.md');
  const layout = /## Layout\n\n```\n([\s\S]*?)```/.exec(doc)![1]!;

  it('its Layout block names every folder of the repository that holds code, and only folders that exist', () => {
    const named = [...layout.matchAll(/^(\S+\/)\s/gm)].map((m) => m[1]!);
    // What git ignores (installed packages, builds, test output) is not the repository's.
    const ignored = read('.gitignore')
      .split('\n')
      .filter((line) => line.endsWith('/'))
      .map((line) => new RegExp(`^${line.slice(0, -1).replace(/\*/g, '.*')}$`));
    const code = readdirSync(ROOT, { withFileTypes: true })
      .filter(
        (d) =>
          d.isDirectory() && !d.name.startsWith('.') && d.name !== 'public' && !ignored.some((re) => re.test(d.name)),
      )
      .map((d) => `${d.name}/`);
    expect(code.filter((folder) => !named.some((n) => n.split('/')[0] === folder.slice(0, -1)))).toEqual([]);
    expect(named.filter((n) => !existsSync(resolve(ROOT, n)))).toEqual([]);
  });

  it('every source file the docs name exists', () => {
    const named = pages.flatMap((page) =>
      [
        ...read(page).matchAll(
          /`((?:src|model|workers|tools|build|host|bench|harness|tests)\/[\w./-]+\.(?:ts|svelte))`/g,
        ),
      ].map((m) => `${page}: ${m[1]}`),
    );
    expect(named.length).toBeGreaterThan(50);
    expect(named.filter((entry) => !existsSync(resolve(ROOT, entry.split(': ')[1]!)))).toEqual([]);
  });
});
