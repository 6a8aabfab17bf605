import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags docs/BROWSER.md documents for headless Debian Chromium on these machines. */
const FLAGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** A fresh profile per context, so no cache, service worker or IndexedDB leaks between tests. */
export type BrowserOptions = Omit<NonNullable<Parameters<typeof chromium.launchPersistentContext>[1]>, 'args'> & {
  webgpu?: boolean;
  locale?: string;
  extraArgs?: string[];
};

export async function launch(
  options: BrowserOptions = {},
): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const { webgpu = true, extraArgs = [], ...rest } = options;
  const profile = mkdtempSync(join(tmpdir(), 'glimpse-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    // Without this flag navigator.gpu exists but has no adapter, as on many real machines.
    args: [...FLAGS, ...(webgpu ? ['--enable-unsafe-webgpu'] : []), ...extraArgs],
    ...rest,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A fresh browser with one page at `url`; `init` runs before navigation (routes, init scripts). */
export async function openPage(
  url: string,
  options: BrowserOptions & { init?: (page: Page) => Promise<unknown> } = {},
): Promise<{ context: BrowserContext; page: Page; close: () => Promise<void> }> {
  const { init, ...launchOptions } = options;
  const browser = await launch(launchOptions);
  const page = await browser.context.newPage();
  await init?.(page);
  await page.goto(url);
  return { ...browser, page };
}
