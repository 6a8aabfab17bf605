import { registerSW } from 'virtual:pwa-register';
import { classifier } from './classifier.svelte';
import { hostAnswers, Reachability } from './reachability.svelte';

const UPDATE_CHECK_MS = 60 * 60 * 1000;

/**
 * The service worker's state for the UI, in prompt mode: a new version waits until
 * the user accepts it, and is applied only when no classification is running.
 */
class Pwa {
  needRefresh = $state(false);
  offlineReady = $state(false);
  /** The service worker could not install (e.g. storage quota): the app still works online. */
  offlineUnavailable = $state(false);

  private readonly network = new Reachability(
    // The service worker's own script: always on the host, tiny, and what an update check asks for.
    () => hostAnswers(navigator.serviceWorker?.controller?.scriptURL ?? location.href),
    () => navigator.onLine,
  );
  private apply: ((reload?: boolean) => Promise<void>) | null = null;

  /** Whether the host can be reached, as the page observed it (the offline indicator). */
  get online(): boolean {
    return this.network.online;
  }

  /** Called at start-up: a page served from the offline copy asks the host whether it is there. */
  watchNetwork(): void {
    addEventListener('online', () => void this.network.check());
    addEventListener('offline', () => this.network.wentOffline());
    if (!navigator.onLine) this.network.wentOffline();
    else if (navigator.serviceWorker?.controller) void this.network.check();
  }

  start(): void {
    if (!('serviceWorker' in navigator)) return;
    // Without persistence the browser may evict the offline copy under storage pressure.
    void navigator.storage?.persist?.().catch(() => false);
    this.apply = registerSW({
      immediate: true,
      onNeedRefresh: () => (this.needRefresh = true),
      onOfflineReady: () => (this.offlineReady = true),
      onRegisteredSW: (_url, registration) => registration && this.watch(registration),
      onRegisterError: () => (this.offlineUnavailable = true),
    });
  }

  private watch(registration: ServiceWorkerRegistration): void {
    const failIfRedundant = (worker: ServiceWorker | null) =>
      worker?.addEventListener('statechange', () => {
        if (worker.state === 'redundant' && !navigator.serviceWorker.controller) this.offlineUnavailable = true;
      });
    failIfRedundant(registration.installing);
    registration.addEventListener('updatefound', () => failIfRedundant(registration.installing));
    const check = () =>
      void registration.update().then(
        () => this.network.reached(),
        () => this.network.check(),
      );
    setInterval(check, UPDATE_CHECK_MS);
    document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && check());
  }

  /**
   * Switches to the waiting version and reloads, after any running classification
   * finishes. workbox-window reloads only for updates it found itself, not for those
   * found by the browser or registration.update(), so the reload is done here.
   */
  async update(): Promise<void> {
    await classifier.idle();
    let reloading = false;
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (!reloading) {
        reloading = true;
        location.reload();
      }
    });
    await this.apply?.(false);
  }
}

export const pwa = new Pwa();
