import { ModelMemoryError } from '../src/core/errors';
import { browserMemoryBound, megabytes, type RunMessage, type RunWatch } from '../src/core/run-budget';
import { trackWasmHeaps, wasmHeapBytes } from './wasm-heaps';

trackWasmHeaps();

let nextRun = 0;

/**
 * A worker's runs, told to the page's watchdog over `port` (src/lib/run-watchdog.ts): each run's
 * start with its budget, and its end. The watchdog ends this worker when a run outlasts its
 * budget; this side measures memory after each run, since only the worker can: every runtime's
 * WebAssembly heap, and `otherBytes` (tfjs's tensors outside one). `model` names whose runs these
 * are, so the watchdog knows which model to stop.
 */
export class PortRunWatch implements RunWatch {
  private current = 0;

  constructor(
    private readonly port: MessagePort | null,
    public model: string,
    private readonly otherBytes: () => number = () => 0,
    private readonly boundBytes = browserMemoryBound((navigator as { deviceMemory?: number }).deviceMemory),
  ) {}

  private tell(message: RunMessage): void {
    this.port?.postMessage(message);
  }

  started(budgetMs: number): void {
    this.current = ++nextRun;
    this.tell({ type: 'run', id: this.current, budgetMs, model: this.model });
  }

  ended(): void {
    const bytes = wasmHeapBytes() + this.otherBytes();
    if (bytes > this.boundBytes) {
      this.tell({ type: 'memory', id: this.current, bytes, boundBytes: this.boundBytes, model: this.model });
      throw new ModelMemoryError(
        `the model's runtime holds ${megabytes(bytes)} after one image, over the ${megabytes(this.boundBytes)} this device allows`,
      );
    }
    this.tell({ type: 'idle', id: this.current });
  }
}
