/** How long a page that found its host unreachable waits before asking again. */
export const RECHECK_MS = 10_000;

/**
 * Whether the page can reach its host, from what it observed rather than from
 * navigator.onLine alone: in a document its service worker served from the cache, Chromium
 * can report onLine === true with the network down, and fire no 'offline' event until the
 * network state changes again. So the host is asked (`ask`) when the page starts from the
 * offline copy, when the browser says it is back online and when an update check fails;
 * while it is unreachable it is asked again every RECHECK_MS, and any answer clears it.
 * The browser's own 'offline' is believed at once: it is not wrong in that direction.
 */
export class Reachability {
  online = $state(true);
  private asking: Promise<void> | null = null;
  private recheck: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly ask: () => Promise<boolean>,
    private readonly browserOnline: () => boolean,
  ) {}

  /** Asks the host, once at a time however many reasons come together. */
  check(): Promise<void> {
    this.asking ??= this.ask()
      .catch(() => false)
      .then((reached) => this.set(reached))
      .finally(() => (this.asking = null));
    return this.asking;
  }

  /** The browser says the network is gone. */
  wentOffline(): void {
    this.set(false);
  }

  /** A request to the host was answered. */
  reached(): void {
    this.set(true);
  }

  private set(online: boolean): void {
    this.online = online;
    clearTimeout(this.recheck);
    // While the browser itself says offline, its 'online' event says when to ask again.
    if (!online && this.browserOnline()) this.recheck = setTimeout(() => void this.check(), RECHECK_MS);
  }
}

/**
 * Whether `url`'s host answers at all (any status counts). A HEAD request: the service
 * worker routes only GETs, so this one always goes to the network, and it carries no body.
 */
export async function hostAnswers(url: string, fetchFn: typeof fetch = fetch): Promise<boolean> {
  try {
    await fetchFn(url, { method: 'HEAD', cache: 'no-store' });
    return true;
  } catch {
    return false;
  }
}
