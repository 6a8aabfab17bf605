import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

/** Starting the app as a user does, for the tests and the benchmark alike. */

const ROOT = resolve(import.meta.dirname, '..');

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer().once('error', fail);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

/**
 * Starts the app exactly as a user does (`npm start -- ARGS`), on a free loopback port; `output`
 * is what it printed until it served (a build takes a while: `timeoutMs`).
 */
export async function startApp(
  env: Record<string, string> = {},
  args: string[] = [],
  timeoutMs = 120_000,
): Promise<{ url: string; output: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn('npm', ['start', '--silent', '--', ...args], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const url = `http://127.0.0.1:${port}/`;
  let output = '';
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`npm start did not report its address within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(url)) {
        clearTimeout(timer);
        ready();
      }
    });
    child.once('exit', (code) => fail(new Error(`npm start exited with ${code}`)));
  });
  return { url, output, stop: () => stopGroup(child) };
}

/** npm runs the host as a grandchild: signal the whole process group, then wait for it to go. */
function stopGroup(child: ChildProcess): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done();
    child.once('exit', () => done());
    process.kill(-child.pid!, 'SIGTERM');
  });
}
