import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DOCKER_PATHS, renderNginxConf } from './nginx';
import { readSettings } from '../build/deploy-settings';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'deploy/nginx.conf' },
    root: { type: 'string', default: DOCKER_PATHS.root },
    listen: { type: 'string', default: DOCKER_PATHS.listen },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(`npm run nginx-conf -- [--out deploy/nginx.conf] [--root DIR] [--listen PORT]

Writes the production nginx config with the same headers as npm start, for the
GLIMPSE_EMBED_ORIGINS and GLIMPSE_ISOLATE settings in the environment.`);
  process.exit(0);
}

writeFileSync(
  values.out,
  renderNginxConf(readSettings(), { ...DOCKER_PATHS, root: values.root, listen: values.listen }),
);
console.log(`wrote ${values.out}`);
