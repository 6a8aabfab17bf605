import { connect } from 'node:net';

/** Raw HTTP/1.1 requests for fuzzing a host: seeded, so a failing request can be replayed. */

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'OPTIONS', 'CONNECT', 'PATCH', 'get', 'G\u00e9T', ''];
const PATHS = [
  '/',
  '/index.html',
  '/model/model.json',
  '/embed.html',
  '//x:99999/',
  '//[/',
  '/%2e%2e/package.json',
  '/../package.json',
  '/model/',
  '/model',
  '/.glimpse-settings.json',
  '/%',
  '/%zz',
  '/%E0%A4%A',
  '/a\u0000b',
  '*',
  'http://evil.example/',
  '',
  '/?x=1#y',
  '/assets/',
  '/\\..\\package.json',
  '//',
  '/;/',
];
const PIECES = [
  '/',
  '//',
  '..',
  '%2e',
  '%2f',
  '%00',
  ':',
  '[',
  ']',
  '@',
  '?',
  '#',
  '\\',
  'x',
  '\u00e9',
  '%',
  'model',
  '.bin',
  '~',
  ' ',
];
const RANGES = [
  'bytes=500-100',
  'bytes=-100',
  'bytes=0-0',
  'bytes=abc',
  'bytes=0-1,5-6',
  'bytes=',
  'bytes=-',
  'bytes=-0',
  'bytes=99999999999999999999-',
  'items=0-1',
  'bytes=1-2-3',
  'bytes= 0-1',
  'bytes=0-1,,',
  'bytes=-1-2',
  'bytes=0-',
];

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

function randomTarget(rand: () => number, shardPath: string): string {
  if (rand() < 0.4) return rand() < 0.2 ? shardPath : pick(rand, PATHS);
  let path = '/';
  for (let i = Math.floor(rand() * 12); i > 0; i--) path += pick(rand, PIECES);
  if (rand() < 0.02) path += 'a'.repeat(20_000 + Math.floor(rand() * 100_000));
  return path;
}

export function randomRequest(rand: () => number, shardPath: string, shardLength: number): Buffer {
  if (rand() < 0.05)
    return Buffer.concat([
      Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256))),
      Buffer.from('\r\n\r\n'),
    ]);
  const lines = [
    `${pick(rand, METHODS)} ${randomTarget(rand, shardPath)} ${rand() < 0.9 ? 'HTTP/1.1' : pick(rand, ['HTTP/1.0', 'HTTP/9.9', 'HTTP/1', ''])}`,
  ];
  lines.push(`Host: ${rand() < 0.8 ? '127.0.0.1' : pick(rand, ['evil.example', '', '[::1', 'a b'])}`);
  if (rand() < 0.5) lines.push(`Range: ${rand() < 0.1 ? `bytes=${shardLength}-` : pick(rand, RANGES)}`);
  if (rand() < 0.1) lines.push(`If-Range: ${pick(rand, ['"x"', 'Mon, 01 Jan 1990 00:00:00 GMT', 'garbage'])}`);
  if (rand() < 0.05) lines.push(`X-Big: ${'b'.repeat(20_000)}`);
  if (rand() < 0.05)
    lines.push(
      pick(rand, [
        'Content-Length: -1',
        'Content-Length: 1\r\nContent-Length: 2',
        'Transfer-Encoding: chunked, x',
        'Bad Header: x',
        ': empty',
        'X: \u0001',
        'Upgrade: websocket\r\nConnection: Upgrade',
        'Expect: 100-continue',
      ]),
    );
  lines.push('Connection: close');
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

export interface Answer {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** Sends raw bytes and reads until the server closes; null if it never answers. */
export function rawRequest(port: number, bytes: Buffer): Promise<Answer | null> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => (socket.destroy(), done(null)), 10_000);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(all.subarray(0, 20).toString('latin1'));
      if (!match || end < 0) return done(null);
      const headers = new Map(
        all
          .subarray(0, end)
          .toString('latin1')
          .split('\r\n')
          .slice(1)
          .map(
            (line) =>
              [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()] as const,
          ),
      );
      done({ status: Number(match[1]), headers, body: all.subarray(end + 4) });
    });
    socket.write(bytes);
  });
}
