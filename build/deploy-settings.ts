/**
 * Deploy-time settings, read from the environment in one place. The build bakes the
 * embed allow-list into embed.html's bridge; the static host and the nginx config
 * turn the same values into headers, so the two can never disagree.
 *
 * GLIMPSE_EMBED_ORIGINS  comma-separated origins allowed to embed /embed.html and talk
 *                        to it (e.g. "https://a.example,https://b.example"); unset or
 *                        "*" means any origin: Glimpse is a public widget by default.
 * GLIMPSE_ISOLATE        "1" sends COOP/COEP/CORP so wasm can use threads; embedders then
 *                        need COEP-compatible pages (see README).
 */
export interface DeploySettings {
  embedOrigins: '*' | string[];
  isolate: boolean;
}

export const DEFAULT_SETTINGS: DeploySettings = { embedOrigins: '*', isolate: false };

export function parseOrigins(value: string | undefined): '*' | string[] {
  const list = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0 || list.includes('*')) return '*';
  return list.map((origin) => {
    const url = URL.parse(origin);
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== origin.replace(/\/$/, '')) {
      throw new Error(`GLIMPSE_EMBED_ORIGINS: "${origin}" is not an origin like https://example.com`);
    }
    return url.origin;
  });
}

export function readSettings(env: Record<string, string | undefined> = process.env): DeploySettings {
  return { embedOrigins: parseOrigins(env.GLIMPSE_EMBED_ORIGINS), isolate: env.GLIMPSE_ISOLATE === '1' };
}
