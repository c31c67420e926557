/**
 * MANIFEST.sha256: the integrity record of an evidence directory. One line per file,
 * `<hex digest>  <relative path>` (the `sha256sum` format, so `sha256sum -c` can check an
 * unkeyed manifest), after two header lines naming the format and the algorithm. With a key the
 * digests are HMAC-SHA256, so evidence cannot be edited and re-hashed by someone without it.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** MANIFEST_FILE is the manifest's file name inside an evidence directory. */
export const MANIFEST_FILE = 'MANIFEST.sha256';
const HEADER = '# spacetime-sentinel evidence manifest v1';

export type ManifestAlgorithm = 'sha256' | 'hmac-sha256';

/** ManifestCheck is the outcome of verifying a directory against its manifest. */
export interface ManifestCheck {
  readonly ok: boolean;
  readonly algorithm?: ManifestAlgorithm;
  /** problems are one line each: missing, modified or unlisted files, a bad header. */
  readonly problems: readonly string[];
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(relative(dir, full).split(sep).join('/'));
    }
  }
  await walk(dir);
  return out.filter((f) => f !== MANIFEST_FILE).sort();
}

function digest(data: Buffer, key: string | undefined): string {
  return key === undefined ? createHash('sha256').update(data).digest('hex') : createHmac('sha256', key).update(data).digest('hex');
}

/** writeManifest hashes every file under `dir` (the manifest itself excluded) and writes the manifest. */
export async function writeManifest(dir: string, hmacKey?: string): Promise<void> {
  const algorithm: ManifestAlgorithm = hmacKey === undefined ? 'sha256' : 'hmac-sha256';
  const lines = [HEADER, `# algorithm: ${algorithm}`];
  for (const file of await listFiles(dir)) lines.push(`${digest(await readFile(join(dir, file)), hmacKey)}  ${file}`);
  await writeFile(join(dir, MANIFEST_FILE), lines.join('\n') + '\n', { mode: 0o644 });
}

/** verifyManifest checks that the manifest lists exactly the files present, with matching digests. */
export async function verifyManifest(dir: string, hmacKey?: string): Promise<ManifestCheck> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    return { ok: false, problems: [`${MANIFEST_FILE} is missing: the run did not finish or the evidence is incomplete`] };
  }
  const lines = text.split('\n').filter((l) => l.length > 0);
  const algoMatch = /^# algorithm: (sha256|hmac-sha256)$/.exec(lines[1] ?? '');
  if (lines[0] !== HEADER || !algoMatch) return { ok: false, problems: [`${MANIFEST_FILE} has no valid header`] };
  const algorithm = algoMatch[1] as ManifestAlgorithm;
  if (algorithm === 'hmac-sha256' && hmacKey === undefined) {
    return { ok: false, algorithm, problems: [`${MANIFEST_FILE} is HMAC-signed; provide the key (drills.manifest_hmac_key) to verify it`] };
  }
  const key = algorithm === 'hmac-sha256' ? hmacKey : undefined;
  const problems: string[] = [];
  const listed = new Map<string, string>();
  for (const line of lines.slice(2)) {
    const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!m) {
      problems.push(`${MANIFEST_FILE}: malformed line '${line.slice(0, 80)}'`);
      continue;
    }
    listed.set(m[2], m[1]);
  }
  const present = new Set(await listFiles(dir));
  for (const [file, expected] of listed) {
    if (!present.has(file)) {
      problems.push(`${file} is listed in the manifest but missing`);
      continue;
    }
    const actual = Buffer.from(digest(await readFile(join(dir, file)), key), 'hex');
    if (!timingSafeEqual(actual, Buffer.from(expected, 'hex'))) problems.push(`${file} does not match its manifest digest (modified after the run)`);
  }
  for (const file of present) if (!listed.has(file)) problems.push(`${file} is not listed in the manifest (added after the run)`);
  return { ok: problems.length === 0, algorithm, problems };
}
