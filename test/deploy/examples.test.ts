/**
 * The deployment examples in deploy/: each is valid YAML of its kind, `sentinel config check`
 * accepts the configuration it carries (the image's /opt/sentinel is this checkout: the package's
 * config/ is the repository's), and what the manifest wires up agrees with that configuration
 * and with the image: the port the sentinel listens on is the one its probes and scrape
 * annotation name, every secret the configuration references reaches the container, the
 * configuration is mounted where SENTINEL_CONFIG points, the data and evidence directories are
 * volumes, and the platform waits longer than server.shutdown_timeout before killing it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import type { CommandIO } from '../../src/commands/types.js';
import { checkConfig } from '../../src/config/index.js';
import type { Config } from '../../src/config/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'sentinel-deploy-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
/** IMAGE_UID is the user deploy/image/setup.sh creates. */
const IMAGE_UID = Number(/^SENTINEL_UID=(\d+)$/m.exec(readFileSync(join(ROOT, 'deploy', 'image', 'setup.sh'), 'utf8'))?.[1]);

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are checked field by field below */
type Doc = any;

function yamlDocs(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(join(ROOT, file), 'utf8'));
  for (const d of docs) expect(d.errors.map((e) => e.message), file).toEqual([]);
  return docs.map((d) => d.toJS() as Doc);
}

/** secretRefs lists the ${NAME} references of a configuration text (not ${file:...}). */
function secretRefs(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((m) => m[1]))].sort();
}

/** fileSecretRefs lists the paths of a configuration text's ${file:PATH} references. */
function fileSecretRefs(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{file:([^}]+)\}/g)].map((m) => m[1]))].sort();
}

/**
 * checked runs `sentinel config check` on the configuration with the image's paths on this
 * checkout and every ${file:...} secret a file under the work directory.
 */
async function checked(name: string, text: string): Promise<Config> {
  const file = join(work, name);
  const secrets = join(work, 'secrets');
  mkdirSync(secrets, { recursive: true });
  const local = (path: string): string => join(secrets, path.replaceAll('/', '_'));
  for (const path of fileSecretRefs(text)) writeFileSync(local(path), `value-of-${basename(path)}\n`);
  let localText = text.replaceAll('/opt/sentinel/', `${ROOT}/`);
  for (const path of fileSecretRefs(text)) localText = localText.replaceAll(`\${file:${path}}`, `\${file:${local(path)}}`);
  writeFileSync(file, localText);
  const env = Object.fromEntries(secretRefs(text).map((n) => [n, `value-of-${n}`]));
  let out = '';
  let err = '';
  const io: CommandIO = { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env, cwd: work, signal: new AbortController().signal };
  expect(await main(['config', 'check', '--config', file], io), err).toBe(0);
  expect(out).toBe(`OK: ${file}\n`);
  const result = checkConfig(file, { env });
  if (!result.ok) throw new Error(result.issues.join('\n'));
  return result.config;
}

function envOf(container: Doc): Map<string, Doc> {
  return new Map((container.env as Doc[]).map((e) => [e.name as string, e]));
}

function portOf(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

describe('deploy/cloudrun', () => {
  const [service] = yamlDocs('deploy/cloudrun/service.yaml');
  const configText = readFileSync(join(ROOT, 'deploy', 'cloudrun', 'sentinel.yaml'), 'utf8');
  const containers = service.spec.template.spec.containers as Doc[];
  const sentinel = containers.find((c) => c.name === 'sentinel');

  it('is a Knative Service whose ingress container is the runtime and whose sidecar is the sentinel', () => {
    expect([service.apiVersion, service.kind]).toEqual(['serving.knative.dev/v1', 'Service']);
    expect(containers.map((c) => c.name)).toEqual(['runtime', 'sentinel']);
    // Only the ingress container declares ports on Cloud Run.
    expect(containers.filter((c) => c.ports).map((c) => c.name)).toEqual(['runtime']);
    const deps = JSON.parse(service.spec.template.metadata.annotations['run.googleapis.com/container-dependencies'] as string) as Record<string, string[]>;
    expect(deps).toEqual({ sentinel: ['runtime'] });
  });

  it('carries a configuration that sentinel config check accepts', async () => {
    const config = await checked('cloudrun.yaml', configText);
    expect(config.environment).toBe('staging');
    expect(config.target.runtime.baseUrl).toBe(`http://127.0.0.1:${containers[0].ports[0].containerPort}`);
  });

  it('probes the port the sentinel listens on, mounts its configuration, data and evidence, and every secret as a file at its latest version', async () => {
    const config = await checked('cloudrun.yaml', configText);
    const env = envOf(sentinel);
    const port = portOf(env.get('SENTINEL_LISTEN').value as string);
    expect(port).toBe(config.server.listen.port);
    expect(sentinel.startupProbe.httpGet).toEqual({ path: '/readyz', port });
    expect(sentinel.livenessProbe.httpGet).toEqual({ path: '/healthz', port });
    const mounts = new Map((sentinel.volumeMounts as Doc[]).map((m) => [m.mountPath as string, m.name as string]));
    const volumes = new Map((service.spec.template.spec.volumes as Doc[]).map((v) => [v.name as string, v]));
    const configFile = env.get('SENTINEL_CONFIG').value as string;
    const configVolume = volumes.get(mounts.get(dirname(configFile)) ?? '');
    expect(configVolume.secret.items).toEqual([{ key: 'latest', path: basename(configFile) }]);
    // Each secret is a ${file:...} on a Secret Manager volume at its latest version (fetched when
    // read, so a new version needs no new revision); none is an environment variable, which
    // Cloud Run resolves once when an instance starts.
    expect(secretRefs(configText)).toEqual([]);
    expect(fileSecretRefs(configText).length).toBeGreaterThanOrEqual(2);
    for (const file of fileSecretRefs(configText)) {
      const volume = volumes.get(mounts.get(dirname(file)) ?? '');
      expect(volume?.secret?.secretName, file).toMatch(/^sentinel-/);
      expect(volume?.secret?.items, file).toEqual([{ key: 'latest', path: basename(file) }]);
    }
    expect(volumes.get(mounts.get(config.storage.dataDir) ?? '')?.emptyDir).toBeDefined();
    const evidence = volumes.get(mounts.get(config.drills.evidenceDir) ?? '');
    expect(evidence?.csi?.driver).toBe('gcsfuse.run.googleapis.com');
    expect(evidence?.csi?.volumeAttributes?.mountOptions).toContain(`uid=${IMAGE_UID}`);
    // Cloud Run kills an instance 10 s after SIGTERM.
    expect(config.server.shutdownTimeoutMs).toBeLessThan(10_000);
    expect(config.drills.schedules).toEqual([]);
  });
});

describe('deploy/kubernetes', () => {
  const docs = yamlDocs('deploy/kubernetes/sentinel-sidecar.yaml');
  const byKind = new Map(docs.map((d) => [d.kind as string, d]));
  const deployment = byKind.get('Deployment');
  const pod = deployment.spec.template;
  const sentinel = (pod.spec.containers as Doc[]).find((c) => c.name === 'sentinel');
  const configMap = byKind.get('ConfigMap');
  const configKey = Object.keys(configMap.data as Record<string, string>)[0];
  const configText = configMap.data[configKey] as string;

  it('holds a ConfigMap, a PersistentVolumeClaim and a Deployment with the sentinel beside the runtime', () => {
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual(['v1 ConfigMap', 'v1 PersistentVolumeClaim', 'apps/v1 Deployment']);
    expect((pod.spec.containers as Doc[]).map((c) => c.name)).toEqual(['runtime', 'sentinel']);
    expect(deployment.spec.selector.matchLabels).toEqual(pod.metadata.labels);
    // One pod at a time: the claim is ReadWriteOnce.
    expect([deployment.spec.replicas, deployment.spec.strategy.type, byKind.get('PersistentVolumeClaim').spec.accessModes]).toEqual([1, 'Recreate', ['ReadWriteOnce']]);
  });

  it('embeds a configuration that sentinel config check accepts', async () => {
    const config = await checked('kubernetes.yaml', configText);
    expect(config.environment).toBe('staging');
  });

  it('probes and scrapes the port the sentinel listens on, runs it as the image user, and gives it time to stop', async () => {
    const config = await checked('kubernetes.yaml', configText);
    const env = envOf(sentinel);
    const port = portOf(env.get('SENTINEL_LISTEN').value as string);
    expect(port).toBe(config.server.listen.port);
    const named = (sentinel.ports as Doc[]).find((p) => p.name === sentinel.startupProbe.httpGet.port);
    expect(named?.containerPort).toBe(port);
    expect(sentinel.startupProbe.httpGet.path).toBe('/readyz');
    expect(sentinel.livenessProbe.httpGet).toEqual({ path: '/healthz', port: named?.name });
    expect(sentinel.readinessProbe).toBeUndefined();
    expect(pod.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
    expect(sentinel.resources.requests.memory).toBeDefined();
    expect(sentinel.resources.limits.memory).toBeDefined();
    expect([sentinel.securityContext.runAsNonRoot, sentinel.securityContext.runAsUser, pod.spec.securityContext.fsGroup]).toEqual([true, IMAGE_UID, IMAGE_UID]);
    expect(pod.spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.server.shutdownTimeoutMs);
  });

  it('mounts the configuration where SENTINEL_CONFIG points, the claim over data and evidence, and every secret as a file it re-reads', async () => {
    const config = await checked('kubernetes.yaml', configText);
    const env = envOf(sentinel);
    const mounts = sentinel.volumeMounts as Doc[];
    const volumes = new Map((pod.spec.volumes as Doc[]).map((v) => [v.name as string, v]));
    const volumeAt = (path: string): Doc => {
      const m = mounts.filter((x) => path === x.mountPath || path.startsWith(`${x.mountPath}/`)).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
      return m ? volumes.get(m.name) : undefined;
    };
    const configFile = env.get('SENTINEL_CONFIG').value as string;
    expect(volumeAt(configFile)?.configMap?.name).toBe(configMap.metadata.name);
    expect(basename(configFile)).toBe(configKey);
    const claim = byKind.get('PersistentVolumeClaim').metadata.name;
    expect(volumeAt(config.storage.dataDir)?.persistentVolumeClaim?.claimName).toBe(claim);
    expect(volumeAt(config.drills.evidenceDir)?.persistentVolumeClaim?.claimName).toBe(claim);
    // Each secret is a ${file:...} on the Secret's volume (re-read when the kubelet updates it),
    // a key of the Secret that the manifest's header says how to create; none is an environment
    // variable, which would stay fixed for the life of the process.
    const header = readFileSync(join(ROOT, 'deploy', 'kubernetes', 'sentinel-sidecar.yaml'), 'utf8');
    expect(secretRefs(configText)).toEqual([]);
    expect(fileSecretRefs(configText).length).toBeGreaterThanOrEqual(2);
    for (const file of fileSecretRefs(configText)) {
      const secret = volumeAt(file)?.secret?.secretName as string;
      expect(secret, file).toBeDefined();
      expect(header).toContain(`kubectl create secret generic ${secret}`);
      expect(header).toContain(`--from-file=${basename(file)}=`);
    }
  });
});
/* eslint-enable @typescript-eslint/no-explicit-any */
