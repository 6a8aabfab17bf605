import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** What may import what (docs/ARCHITECTURE.md), checked on the source text. */

const ROOT = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? sources(path) : /\.(ts|svelte)$/.test(name) ? [path] : [];
  });
}

interface Import {
  from: string;
  /** The imported file, relative to the repository root, or the package name. */
  target: string;
  typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const found: Import[] = [];
  for (const [, type, spec] of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]/gm)) {
    found.push({
      from: file,
      target: spec!.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), spec!)) : spec!,
      typeOnly: Boolean(type),
    });
  }
  for (const [, spec] of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    found.push({
      from: file,
      target: spec!.startsWith('.') ? relative(ROOT, resolve(ROOT, dirname(file), spec!)) : spec!,
      typeOnly: false,
    });
  }
  return found;
}

const all = (...dirs: string[]) => dirs.flatMap(sources).flatMap(importsOf);
const under = (prefixes: string[]) => (i: Import) =>
  prefixes.some((p) => i.target === p || i.target.startsWith(`${p}/`));
const show = (i: Import) => `${i.from} → ${i.target}`;

const ENGINES = ['@tensorflow/', 'onnxruntime-', '@litertjs/'];
const engine = (i: Import) => ENGINES.some((e) => i.target.startsWith(e));

describe('layering', () => {
  it('the page imports the worker only as types (a value import would pull tfjs into the page bundle), and no engine', () => {
    expect(
      all('src')
        .filter((i) => under(['workers', 'model'])(i) && !i.typeOnly)
        .map(show),
    ).toEqual([]);
    expect(
      all('src')
        .filter((i) => engine(i) && !i.typeOnly)
        .map(show),
    ).toEqual([]);
  });

  it('src/core is pure logic: it imports nothing of the page, the worker, the model code or Node, and no engine', () => {
    expect(
      all('src/core')
        .filter(
          (i) =>
            under([
              'src/lib',
              'src/components',
              'workers',
              'model',
              'host',
              'build',
              'tools',
              'bench',
              'harness',
              'tests',
            ])(i) || i.target.startsWith('node:'),
        )
        .map(show),
    ).toEqual([]);
    expect(all('src/core').filter(engine).map(show)).toEqual([]);
  });

  it('model/ (shared by the worker and the Node tools) imports no worker, page, Node or tool code', () => {
    expect(
      all('model')
        .filter(
          (i) =>
            under(['workers', 'src/lib', 'src/components', 'host', 'build', 'tools', 'bench', 'harness', 'tests'])(i) ||
            i.target.startsWith('node:'),
        )
        .map(show),
    ).toEqual([]);
  });

  it('nothing outside workers/ imports it except as types: the tools, the build and the benchmark use model/', () => {
    expect(
      all('src', 'model', 'tools', 'build', 'host', 'bench', 'harness')
        .filter((i) => under(['workers'])(i) && !i.typeOnly)
        .map(show),
    ).toEqual([]);
  });

  it('the worker does not import page code', () => {
    expect(
      all('workers')
        .filter(under(['src/lib', 'src/components', 'src/App.svelte']))
        .map(show),
    ).toEqual([]);
  });

  it('host/ (serving) builds on build/ (the site, its headers and settings), never the other way', () => {
    expect(
      all('build')
        .filter(under(['host']))
        .map(show),
    ).toEqual([]);
  });

  it('the tools do not import the host, and the benchmark does not import the tests', () => {
    expect(
      all('tools')
        .filter(under(['host', 'harness', 'tests', 'bench']))
        .map(show),
    ).toEqual([]);
    expect(
      all('bench')
        .filter(under(['tests']))
        .map(show),
    ).toEqual([]);
  });

  it('the engine asks a runtime what it can do, never its name: no backend name and no runtime package in model/engine.ts', () => {
    const engine = readFileSync(join(ROOT, 'model/engine.ts'), 'utf8');
    const names = ['webgpu', 'webgl', 'wasm', 'cpu', 'litert', 'onnx-webgpu', 'onnx-webnn', 'onnx-wasm'];
    expect(names.filter((name) => engine.includes(`'${name}'`))).toEqual([]);
    expect(
      importsOf('model/engine.ts')
        .filter((i) => /tfjs|litert|onnxruntime/.test(i.target) || (i.target.endsWith('backends') && !i.typeOnly))
        .map((i) => i.target),
    ).toEqual([]);
  });
});
