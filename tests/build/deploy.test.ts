import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { headersFor, metaContentSecurityPolicy } from '../../build/headers';
import { HEALTH_PATH, renderNginxConf } from '../../host/nginx';
import { DEFAULT_SETTINGS } from '../../build/deploy-settings';
import {
  renderFirebaseJson,
  renderHeadersFile,
  renderVercelJson,
  siteRoutes,
  type Route,
} from '../../build/static-hosts';

const ROOT = resolve(import.meta.dirname, '../..');
const DIST = join(ROOT, 'dist');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const expected = (route: Route) => headersFor(route.path, DEFAULT_SETTINGS);
type Header = { key: string; value: string };

describe('static-host header files (generated from build/headers.ts)', () => {
  const routes = siteRoutes(DIST);

  it('are the committed ones, and the build ships _headers (regenerate with npm run deploy-configs)', () => {
    expect(read('deploy/_headers')).toBe(renderHeadersFile(routes, DEFAULT_SETTINGS));
    expect(read('deploy/vercel.json')).toBe(renderVercelJson(routes, DEFAULT_SETTINGS));
    expect(read('deploy/firebase.json')).toBe(renderFirebaseJson(routes, DEFAULT_SETTINGS));
    expect(read('deploy/nginx.conf')).toBe(renderNginxConf(DEFAULT_SETTINGS));
    expect(readFileSync(join(DIST, '_headers'), 'utf8')).toBe(read('deploy/_headers'));
  });

  it('cover every top-level file and folder of the site once, with no two rules matching one path', () => {
    const top = readdirSync(DIST).filter((n) => !n.startsWith('.') && n !== '_headers');
    expect(
      routes
        .map((r) => r.path.replace(/^\/|\/$/g, ''))
        .filter(Boolean)
        .sort(),
    ).toEqual(top.sort());
    expect(new Set(routes.map((r) => r.path)).size).toBe(routes.length);
  });

  it('_headers (Netlify, Cloudflare Pages) gives each route exactly the header list', () => {
    const rules = new Map<string, Record<string, string>>();
    let current = '';
    for (const line of read('deploy/_headers').split('\n')) {
      if (!line || line.startsWith('#')) continue;
      if (!line.startsWith(' ')) rules.set((current = line), {});
      else rules.get(current)![line.slice(2, line.indexOf(':'))] = line.slice(line.indexOf(':') + 2);
    }
    expect(rules.size).toBe(routes.length);
    for (const route of routes)
      expect(rules.get(route.folder ? `${route.path}*` : route.path), route.path).toEqual(expected(route));
  });

  it('vercel.json and firebase.json give each route exactly the header list', () => {
    const vercel = JSON.parse(read('deploy/vercel.json')) as {
      outputDirectory: string;
      headers: { source: string; headers: Header[] }[];
    };
    const firebase = JSON.parse(read('deploy/firebase.json')) as {
      hosting: { public: string; headers: { source: string; headers: Header[] }[] };
    };
    expect(vercel.outputDirectory).toBe('dist');
    expect(firebase.hosting.public).toBe('dist');
    const asRecord = (list: Header[]) => Object.fromEntries(list.map((h) => [h.key, h.value]));
    for (const route of routes) {
      expect(
        asRecord(vercel.headers.find((h) => h.source === (route.folder ? `${route.path}:path*` : route.path))!.headers),
        route.path,
      ).toEqual(expected(route));
      expect(
        asRecord(
          firebase.hosting.headers.find((h) => h.source === (route.folder ? `${route.path}**` : route.path))!.headers,
        ),
        route.path,
      ).toEqual(expected(route));
    }
  });

  it('every page carries the CSP as a <meta> too, for hosts without headers', () => {
    for (const page of ['index.html', 'embed.html']) {
      const html = readFileSync(join(DIST, page), 'utf8').replace(/&#39;/g, "'");
      expect(html).toContain(
        `<meta http-equiv="Content-Security-Policy" content="${metaContentSecurityPolicy(DEFAULT_SETTINGS)}">`,
      );
    }
  });
});

describe('Kubernetes manifests (deploy/k8s)', () => {
  const dir = join(ROOT, 'deploy/k8s');
  const docs = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => ({
        file: f,
        doc: d.toJS() as Record<string, any>,
      })),
    );
  const kind = (k: string) => docs.find((d) => d.doc.kind === k)!.doc;
  const deployment = kind('Deployment');
  const pod = deployment.spec.template.spec;
  const app = pod.containers.find((c: { name: string }) => c.name === 'glimpse');
  const labels = deployment.spec.template.metadata.labels;

  it('lists every manifest in kustomization.yaml and pins every image to a release', () => {
    const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
    expect([...kustomization.resources].sort()).toEqual([...new Set(docs.map((d) => d.file))].sort());
    for (const image of kustomization.images) expect(image.newTag).toMatch(/^\d+\.\d+\.\d+$/);
    for (const container of pod.containers) expect(container.image, container.name).toMatch(/:(?!latest$)[\w.-]+$/);
    expect(Object.keys(kind('Service').metadata)).toContain('name');
  });

  it('runs the site non-root, read-only, without capabilities, with requests and limits', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    for (const container of pod.containers) {
      expect(container.securityContext, container.name).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
      expect(container.resources.requests, container.name).toMatchObject({
        cpu: expect.any(String),
        memory: expect.any(String),
      });
      expect(container.resources.limits, container.name).toMatchObject({
        cpu: expect.any(String),
        memory: expect.any(String),
      });
    }
    // nginx writes its pid and temporary files under /tmp, which is the one writable mount.
    expect(app.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
  });

  it('probes readiness and liveness on the static health path that nginx serves', () => {
    for (const probe of [app.readinessProbe, app.livenessProbe])
      expect(probe.httpGet).toEqual({ path: HEALTH_PATH, port: 'http' });
    expect(app.ports).toEqual([{ name: 'http', containerPort: 8080 }]);
    expect(renderNginxConf(DEFAULT_SETTINGS)).toContain(`location = ${HEALTH_PATH} {`);
  });

  it('exposes only the site through the Service; the exporter reads stub_status inside the pod', () => {
    const service = kind('Service');
    expect(service.spec.selector).toEqual(labels);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }]);
    const exporter = pod.containers.find((c: { name: string }) => c.name === 'metrics');
    expect(exporter.args.join(' ')).toContain('http://127.0.0.1:8081/stub_status');
    expect(renderNginxConf(DEFAULT_SETTINGS)).toMatch(/listen 127\.0\.0\.1:8081;\s+location = \/stub_status/);
  });

  it('scales and survives disruptions on the same pods', () => {
    expect(kind('HorizontalPodAutoscaler').spec).toMatchObject({
      scaleTargetRef: { kind: 'Deployment', name: deployment.metadata.name },
      minReplicas: 2,
    });
    expect(kind('PodDisruptionBudget').spec.selector.matchLabels).toEqual(labels);
    expect(kind('Ingress').spec.rules[0].http.paths[0].backend.service).toEqual({
      name: kind('Service').metadata.name,
      port: { name: 'http' },
    });
  });

  it.skipIf(spawnSync('kubectl', ['version', '--client']).status !== 0)(
    'renders with kubectl kustomize (client side; a dry-run apply needs a cluster)',
    () => {
      const rendered = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
      expect(rendered.status, rendered.stderr).toBe(0);
      expect(rendered.stdout).toContain('image: ghcr.io/example/glimpse:0.1.0');
    },
  );
});

describe('Dockerfile', () => {
  const lines = read('Dockerfile')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  const stages = lines.filter((l) => l.startsWith('FROM '));
  const final = lines.slice(lines.lastIndexOf(stages.at(-1)!));

  it('builds from pinned base images and runs nginx non-root with a health check', () => {
    const named: string[] = [];
    for (const from of stages) {
      // A stage starts from a pinned image or from an earlier stage of this file.
      const [, image, name] = from.match(/^FROM (\S+)(?: AS ([\w-]+))?$/)!;
      if (!named.includes(image!)) expect(from).toMatch(/^FROM [\w./-]+:\d+\.\d+\.\d+[\w.-]*( AS [\w-]+)?$/);
      if (name) named.push(name);
    }
    expect(final).toContain('USER nginx');
    expect(final).toContain('EXPOSE 8080');
    expect(final.find((l) => l.startsWith('HEALTHCHECK'))).toContain(`http://127.0.0.1:8080${HEALTH_PATH}`);
    expect(lines.join('\n')).toContain('npm run build && npm run nginx-conf');
  });

  it('installs with the project’s .npmrc, so no dependency’s install script runs (onnxruntime-node’s would fetch CUDA libraries)', () => {
    const copy = lines.findIndex((l) => l.startsWith('COPY') && l.includes('.npmrc'));
    expect(copy).toBeGreaterThanOrEqual(0);
    expect(copy).toBeLessThan(lines.findIndex((l) => l.includes('npm ci')));
    expect(read('.npmrc')).toMatch(/^ignore-scripts=true$/m);
    // A key npm does not know is warned about on every npm command.
    expect(read('.npmrc')).not.toMatch(/^onnxruntime-node-install/m);
  });
});

const PIPELINE = 'deploy/ci/pipeline.sh';
const steps = (flow: Record<string, any>) =>
  Object.values(flow.jobs).flatMap((job: any) => job.steps as Record<string, any>[]);

describe('GitHub workflows for adopters', () => {
  const scripts = Object.keys(JSON.parse(read('package.json')).scripts);
  const workflows = readdirSync(join(ROOT, '.github/workflows')).map((f) => ({
    file: f,
    flow: parse(read(`.github/workflows/${f}`)) as Record<string, any>,
  }));

  it('call only npm scripts that exist, and pin every action to a major version', () => {
    for (const { file, flow } of workflows) {
      for (const step of steps(flow)) {
        for (const [, script] of String(step.run ?? '').matchAll(/npm (?:run )?([\w:-]+)/g)) {
          if (script !== 'ci')
            expect(script === 'test' ? 'test' : scripts.find((s) => s === script), `${file}: npm ${script}`).toBe(
              script,
            );
        }
        if (step.uses) expect(step.uses, file).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
      }
    }
  });

  it('CI runs the README test command on pushes and pull requests; deploy publishes dist/ and the image on tags', () => {
    const ci = workflows.find((w) => w.file === 'ci.yml')!.flow;
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(['pull_request', 'push']));
    expect(steps(ci).map((s) => s.run)).toEqual(
      expect.arrayContaining([`bash ${PIPELINE} test`, `bash ${PIPELINE} site`]),
    );
    expect(steps(ci).find((s) => s.uses?.startsWith('actions/setup-node'))?.with.cache).toBe('npm');
    const deploy = workflows.find((w) => w.file === 'deploy.yml')!.flow;
    expect(deploy.on.push.tags).toEqual(['v*']);
    expect(steps(deploy).find((s) => s.uses?.startsWith('actions/upload-pages-artifact'))?.with.path).toBe('dist');
    expect(steps(deploy).find((s) => s.uses?.startsWith('docker/build-push-action'))?.with.tags).toContain(
      '${{ vars.REGISTRY }}',
    );
    expect(existsSync(join(ROOT, '.ci/run'))).toBe(true);
    expect(read('.ci/run')).toContain('npm test');
  });
});

describe('GitLab CI and Jenkins run the same pipeline script as GitHub', () => {
  const gitlab = parse(read('.gitlab-ci.yml')) as Record<string, any>;
  const jenkins = read('Jenkinsfile');
  const github = parse(read('.github/workflows/ci.yml')) as Record<string, any>;
  const script = read(PIPELINE);

  it('the script is valid bash that installs Chromium and nginx, runs the README test command, and builds dist/', () => {
    const syntax = spawnSync('bash', ['-n', join(ROOT, PIPELINE)], { encoding: 'utf8' });
    expect(syntax.status, syntax.stderr).toBe(0);
    expect(script).toMatch(/apt-get install -y -qq chromium nginx/);
    expect(script).toMatch(/^\s+npm test$/m);
    expect(script).toMatch(/^\s+npm run build$/m);
    expect(read('README.md')).toContain('npm test ');
    const usage = spawnSync('bash', [join(ROOT, PIPELINE), 'nonsense'], { encoding: 'utf8' });
    expect([usage.status, usage.stderr]).toEqual([2, expect.stringContaining('usage')]);
  });

  it('each pipeline calls it for the tests and for the site, on the same Debian image, and keeps dist/', () => {
    const image = github.jobs.test.container;
    expect(image).toMatch(/^node:\d+\.\d+\.\d+-bookworm$/);
    expect(gitlab.image).toBe(image);
    expect(jenkins).toContain(`image '${image}'`);
    expect(gitlab.test.script).toEqual([`bash ${PIPELINE} test`]);
    expect(gitlab.site.script).toEqual([`bash ${PIPELINE} site`]);
    expect(gitlab.stages.indexOf(gitlab.test.stage)).toBeLessThan(gitlab.stages.indexOf(gitlab.site.stage));
    expect(gitlab.site.artifacts.paths).toEqual(['dist/']);
    expect(jenkins).toContain(`sh 'bash ${PIPELINE} test'`);
    expect(jenkins).toContain(`sh 'bash ${PIPELINE} site'`);
    expect(jenkins).toMatch(/archiveArtifacts artifacts: 'dist\/\*\*'/);
    expect(jenkins.indexOf(`${PIPELINE} test`)).toBeLessThan(jenkins.indexOf(`${PIPELINE} site`));
    expect(
      steps(github).find((s: Record<string, any>) => s.uses?.startsWith('actions/upload-artifact'))?.with.path,
    ).toBe('dist');
    // No pipeline runs test commands of its own beside the script's, so they cannot drift.
    const runs = [
      ...steps(github)
        .map((s: Record<string, any>) => s.run)
        .filter(Boolean),
      ...gitlab.test.script,
      ...gitlab.site.script,
      ...[...jenkins.matchAll(/sh '([^']+)'/g)].map((m) => m[1]),
    ];
    for (const run of runs) expect(run, run).toMatch(new RegExp(`^bash ${PIPELINE} (test|site)$`));
  });
});

describe('Docker Compose with Prometheus and Grafana (the files only: no Docker engine here)', () => {
  const compose = parse(read('docker-compose.yml')) as Record<string, any>;
  const services = compose.services as Record<string, any>;
  const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as Record<string, any>;
  const dockerfile = read('Dockerfile');
  const mounts = (service: string) =>
    (services[service].volumes as string[]).map((v) => ({ from: v.split(':')[0]!, to: v.split(':')[1]! }));
  const targets = (job: string) =>
    prometheus.scrape_configs
      .find((c: { job_name: string }) => c.job_name === job)
      .static_configs.flatMap((c: { targets: string[] }) => c.targets);

  it('runs the Dockerfile site on its port, and Prometheus, Grafana and the exporter only under the monitoring profile', () => {
    expect(services.site.build.context).toBe('.');
    expect(services.site.profiles).toBeUndefined();
    expect(services.site.ports).toEqual(['127.0.0.1:8080:8080']);
    expect(dockerfile).toContain('EXPOSE 8080');
    expect(services.site.read_only).toBe(true);
    for (const name of ['prometheus', 'grafana', 'nginx-exporter'])
      expect(services[name].profiles, name).toEqual(['monitoring']);
    expect(services['node-host'].build.target).toBe('node-host');
    expect(dockerfile).toMatch(/^FROM build AS node-host$/m);
    for (const service of Object.values(services))
      if (service.image && !service.build) expect(service.image).toMatch(/:v?\d+\.\d+\.\d+$/);
  });

  it("scrapes the ports the hosts serve metrics on: the nginx exporter in the site's namespace, the Node host's METRICS_PORT", () => {
    const k8sExporterPort = (
      parseAllDocuments(read('deploy/k8s/deployment.yaml'))[0]!.toJS() as any
    ).spec.template.spec.containers.find((c: { name: string }) => c.name === 'metrics').ports[0].containerPort;
    expect(targets('glimpse-nginx')).toEqual([`site:${k8sExporterPort}`]);
    expect(services['nginx-exporter'].network_mode).toBe('service:site');
    expect(services['nginx-exporter'].command.join(' ')).toContain('http://127.0.0.1:8081/stub_status');
    expect(renderNginxConf(DEFAULT_SETTINGS)).toMatch(/listen 127\.0\.0\.1:8081;\s+location = \/stub_status/);
    const nodePort = dockerfile.match(/METRICS_PORT=(\d+)/)![1];
    expect(dockerfile).toMatch(/METRICS_HOST=0\.0\.0\.0/);
    expect(targets('glimpse-node')).toEqual([`node-host:${nodePort}`]);
    expect(mounts('prometheus')).toEqual([
      { from: './deploy/prometheus/prometheus.yml', to: '/etc/prometheus/prometheus.yml' },
    ]);
  });

  it('provisions Grafana with Prometheus and the dashboard from files that exist', () => {
    for (const { from } of [...mounts('prometheus'), ...mounts('grafana')])
      expect(existsSync(join(ROOT, from)), from).toBe(true);
    const provisioning = mounts('grafana').find((m) => m.to === '/etc/grafana/provisioning')!;
    const datasource = parse(readFileSync(join(ROOT, provisioning.from, 'datasources/prometheus.yml'), 'utf8'))
      .datasources[0];
    expect(datasource.url).toBe(`http://prometheus:${services.prometheus.ports[0].split(':').at(-1)}`);
    const provider = parse(readFileSync(join(ROOT, provisioning.from, 'dashboards/glimpse.yml'), 'utf8')).providers[0];
    const dashboardMount = mounts('grafana').find((m) => m.from === './deploy/grafana/glimpse.json')!;
    expect(dashboardMount.to.startsWith(`${provider.options.path}/`)).toBe(true);
    const dashboard = JSON.parse(read('deploy/grafana/glimpse.json'));
    const sources = dashboard.panels
      .filter((p: { type: string }) => p.type !== 'row')
      .flatMap((p: any) => [p.datasource, ...p.targets.map((t: any) => t.datasource)]);
    for (const source of sources) expect(source).toEqual({ type: 'prometheus', uid: datasource.uid });
  });

  it.skipIf(spawnSync('promtool', ['--version']).status !== 0)(
    'the Prometheus config passes promtool check config',
    () => {
      const checked = spawnSync('promtool', ['check', 'config', join(ROOT, 'deploy/prometheus/prometheus.yml')], {
        encoding: 'utf8',
      });
      expect(checked.status, checked.stdout + checked.stderr).toBe(0);
    },
  );
});
