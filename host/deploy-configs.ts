import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderNginxConf } from './nginx';
import { readSettings } from '../build/deploy-settings';
import { renderFirebaseJson, renderHeadersFile, renderVercelJson, siteRoutes } from '../build/static-hosts';

const { values } = parseArgs({
  options: {
    dist: { type: 'string', default: 'dist' },
    out: { type: 'string', default: 'deploy' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(`npm run deploy-configs -- [--dist dist] [--out deploy]

Writes every host's config from build/headers.ts for the GLIMPSE_EMBED_ORIGINS and
GLIMPSE_ISOLATE settings in the environment: nginx.conf, _headers (Netlify, Cloudflare
Pages), vercel.json and firebase.json. The site's routes are read from a built dist/.`);
  process.exit(0);
}
const settings = readSettings();
const routes = siteRoutes(resolve(values.dist));
const files: Record<string, string> = {
  'nginx.conf': renderNginxConf(settings),
  _headers: renderHeadersFile(routes, settings),
  'vercel.json': renderVercelJson(routes, settings),
  'firebase.json': renderFirebaseJson(routes, settings),
};
for (const [name, text] of Object.entries(files)) writeFileSync(join(values.out, name), text);
console.log(
  `wrote ${Object.keys(files)
    .map((name) => join(values.out, name))
    .join(', ')}`,
);
