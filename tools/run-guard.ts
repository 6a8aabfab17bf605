import { totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ModelMemoryError } from '../src/core/errors';
import { megabytes, nodeMemoryBound, type RunWatch } from '../src/core/run-budget';

/**
 * The Node tools' watchdog: the same run budgets as the browser's, and a bound on the process's
 * memory. onnxruntime-node runs a model on the calling thread and tfjs-wasm in it, so a model that
 * loops holds the event loop and no timer of the tool's can fire: a thread of its own keeps the
 * time and the memory, and on a trip prints why and ends the process (exit 137), since a native run
 * cannot be interrupted. GLIMPSE_MAX_MEMORY_MB sets the memory bound (default: half the machine's,
 * at most 8 GiB).
 */

const GUARD = `
const { parentPort, workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
let timer = null;
const stop = (why) => {
  writeSync(2, '\\n' + workerData.tool + ': ' + why + '; stopped.\\n');
  process.kill(process.pid, 'SIGKILL');
};
parentPort.on('message', (message) => {
  clearTimeout(timer);
  timer = message.type === 'run'
    ? setTimeout(() => stop('a model run went on for over ' + message.budgetMs / 1000 + ' s, far longer than its other runs (ModelTimeoutError): the model loops or hangs on this image'), message.budgetMs)
    : null;
});
setInterval(() => {
  const rss = process.memoryUsage.rss();
  if (rss > workerData.boundBytes) stop('the process holds ' + Math.round(rss / 1048576) + ' MB, over the ' + Math.round(workerData.boundBytes / 1048576) + ' MB allowed (ModelMemoryError; GLIMPSE_MAX_MEMORY_MB sets it)');
}, 100);
`;

class ProcessGuard implements RunWatch {
  private readonly worker: Worker;

  constructor(
    private readonly boundBytes: number,
    tool: string,
  ) {
    this.worker = new Worker(GUARD, { eval: true, workerData: { boundBytes, tool } });
    // The guard never keeps a tool alive once its work is done.
    this.worker.unref();
  }

  started(budgetMs: number): void {
    this.worker.postMessage({ type: 'run', budgetMs });
  }

  ended(): void {
    this.worker.postMessage({ type: 'idle' });
    const rss = process.memoryUsage.rss();
    if (rss > this.boundBytes)
      throw new ModelMemoryError(
        `the process holds ${megabytes(rss)} after one image, over the ${megabytes(this.boundBytes)} allowed (GLIMPSE_MAX_MEMORY_MB sets it)`,
      );
  }
}

let guard: ProcessGuard | null = null;

/** The process's one guard, started with the first model a tool runs. */
export function runGuard(): RunWatch {
  return (guard ??= new ProcessGuard(
    nodeMemoryBound(totalmem(), process.env.GLIMPSE_MAX_MEMORY_MB),
    `npm run ${process.env.npm_lifecycle_event ?? 'tool'}`,
  ));
}
