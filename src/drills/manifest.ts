/**
 * MANIFEST.sha256: the integrity record of an evidence directory. One line per file,
 * `<hex digest>  <relative path>` (the `sha256sum` format, so `sha256sum -c` can check an
 * unkeyed manifest), after two header lines naming the format and the algorithm. With a key the
 * digests are HMAC-SHA256, so evidence cannot be edited and re-hashed by someone without it.
 *
 * The verifier decides what protection it demands, never the manifest: whoever can edit the
 * evidence can also rewrite the header, so with a key configured only an `hmac-sha256` manifest
 * that verifies under that key is valid. Without a key, digests catch accidents (truncation, a
 * stray edit), not forgery, and the check says so.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** MANIFEST_FILE is the manifest's file name inside an evidence directory. */
export const MANIFEST_FILE = 'MANIFEST.sha256';
const HEADER = '# spacetime-sentinel evidence manifest v1';

export type ManifestAlgorithm = 'sha256' | 'hmac-sha256';

/**
 * ManifestProtection says what a valid manifest proves: `forgery` (HMAC under the configured
 * key: nobody without the key could have edited the evidence) or `accidents` (plain digests,
 * verified without a key: anyone can re-hash edited files).
 */
export type ManifestProtection = 'forgery' | 'accidents';

/** ManifestCheck is the outcome of verifying a directory against its manifest. */
export interface ManifestCheck {
  readonly ok: boolean;
  readonly algorithm?: ManifestAlgorithm;
  /** protection is set when `ok`. */
  readonly protection?: ManifestProtection;
  /** problems are one line each: missing, modified or unlisted files, a bad header, a missing signature. */
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

/**
 * verifyManifest checks that the manifest lists exactly the files present, with matching digests.
 * With `hmacKey` only an HMAC-SHA256 manifest can be valid.
 */
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
    return { ok: false, algorithm, problems: [`${MANIFEST_FILE} is HMAC-signed; provide the key (drills.manifest_hmac_key or SENTINEL_MANIFEST_HMAC_KEY) to verify it`] };
  }
  if (algorithm !== 'hmac-sha256' && hmacKey !== undefined) {
    return {
      ok: false,
      algorithm,
      problems: [`${MANIFEST_FILE} is not signed (algorithm ${algorithm}) but a manifest key is configured: plain digests can be recomputed by anyone who edits the evidence, so this evidence may be forged; rerun the drill with drills.manifest_hmac_key set`],
    };
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
  if (problems.length > 0) return { ok: false, algorithm, problems };
  return { ok: true, algorithm, protection: algorithm === 'hmac-sha256' ? 'forgery' : 'accidents', problems };
}
