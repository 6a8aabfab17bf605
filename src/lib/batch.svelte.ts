import type { ClassifyResult } from '../core/classifier-types';
import { CancelledError } from '../core/errors';
import { classifier, markOnce } from './classifier.svelte';
import { previewUrl } from './decode';

export interface ImageResult {
  id: number;
  name: string;
  /** Set once the file passed the checks: a blob: URL typed as the detected image format. */
  previewUrl?: string;
  status: 'pending' | 'done' | 'error';
  result?: ClassifyResult;
  error?: unknown;
  /** The photo itself, kept (not copied) so that it can be explained later. */
  source?: Blob;
}

/** The images the user chose, dropped or pasted, and their results, as Svelte state. */
class Batch {
  results = $state.raw<ImageResult[]>([]);
  /** The results a new pick replaced, kept until the next pick so that the user can bring them back. */
  replaced = $state.raw<ImageResult[]>([]);
  /** Progress of the current batch; `startedAt` is a performance.now() time. */
  progressOf = $state({ done: 0, total: 0, startedAt: 0 });

  private batch = 0;
  private nextId = 0;

  private update(id: number, patch: Partial<ImageResult>): void {
    this.results = this.results.map((r) => (r.id === id ? { ...r, ...patch } : r));
  }

  /** Classifies files in order; a newer selection supersedes one still running. */
  classifyFiles(files: readonly File[], topK = 5): Promise<void> {
    // The whole batch is one piece of work: an update must not reload between two images.
    return classifier.busyWith(() => this.run(files, topK));
  }

  private async run(files: readonly File[], topK: number): Promise<void> {
    const batch = ++this.batch;
    // The earlier pick's answers are set aside, not thrown away (and the one before it let go).
    for (const old of this.replaced) if (old.previewUrl) URL.revokeObjectURL(old.previewUrl);
    this.replaced = this.results.filter((r) => r.status !== 'pending');
    for (const old of this.results) if (old.status === 'pending' && old.previewUrl) URL.revokeObjectURL(old.previewUrl);
    const items = files.map((file) => ({
      id: this.nextId++,
      name: file.name || 'pasted image',
      status: 'pending' as const,
      source: file,
    }));
    this.results = items;
    this.progressOf = { done: 0, total: files.length, startedAt: performance.now() };
    // Two images in flight: the next one decodes on the page while the worker runs the current one.
    const inFlight: Promise<void>[] = [];
    for (const [i, file] of files.entries()) {
      if (batch !== this.batch) break;
      const id = items[i]!.id;
      inFlight.push(
        classifier
          // The preview appears only once the file's bytes have passed the checks.
          .classifyImage(
            file,
            topK,
            (header) => batch === this.batch && this.update(id, { previewUrl: previewUrl(file, header) }),
          )
          .then(
            (result) => this.settle(batch, id, { status: 'done', result }),
            (error: unknown) => this.settle(batch, id, { status: 'error', error }),
          ),
      );
      if (inFlight.length >= 2) await inFlight.shift();
    }
    await Promise.all(inFlight);
  }

  /** Adds one image (a camera snapshot, say) to the current results, classified like the others. */
  append(file: File, topK = 5): Promise<void> {
    const batch = this.batch;
    const id = this.nextId++;
    this.results = [...this.results, { id, name: file.name, status: 'pending', source: file }];
    this.progressOf = { ...this.progressOf, total: this.progressOf.total + 1 };
    return classifier
      .classifyImage(
        file,
        topK,
        (header) => batch === this.batch && this.update(id, { previewUrl: previewUrl(file, header) }),
      )
      .then(
        (result) => this.settle(batch, id, { status: 'done', result }),
        (error: unknown) => this.settle(batch, id, { status: 'error', error }),
      );
  }

  private settle(batch: number, id: number, patch: Partial<ImageResult>): void {
    if (batch !== this.batch) return;
    if (patch.status === 'done') markOnce('glimpse:first-result');
    this.update(id, patch);
    this.progressOf = { ...this.progressOf, done: this.progressOf.done + 1 };
  }

  /** Brings back the answers a new pick set aside, after the new ones. */
  keepReplaced(): void {
    const kept = this.replaced.length;
    this.results = [...this.results, ...this.replaced];
    this.replaced = [];
    this.progressOf = { ...this.progressOf, done: this.progressOf.done + kept, total: this.progressOf.total + kept };
  }

  /** Stops the running batch: images not yet classified are marked cancelled. */
  cancel(): void {
    this.batch++;
    this.results = this.results.map((r) =>
      r.status === 'pending' ? { ...r, status: 'error', error: new CancelledError('cancelled') } : r,
    );
  }
}

export const batch = new Batch();
