/**
 * Names of the toxics a drill owns: `sentinel-<run id>-<stage>-<fault>-x<expiry unix s>`. The
 * prefix marks ownership (nothing else is ever touched) and the expiry lets any later sentinel,
 * even one without the journal, delete a toxic its crashed owner left behind.
 */

const OWNED_RE = /^sentinel-([a-z0-9]+(?:-[a-z0-9]+)*)-(\d+)-(\d+)-x(\d+)$/;

/** ownedToxicName builds the name of fault `faultIndex` of stage `stageIndex`. */
export function ownedToxicName(runId: string, stageIndex: number, faultIndex: number, expiresAtMs: number): string {
  return `sentinel-${runId}-${stageIndex}-${faultIndex}-x${Math.ceil(expiresAtMs / 1000)}`;
}

/** OwnedToxic is what a toxic name says about its owner. */
export interface OwnedToxic {
  readonly runId: string;
  readonly expiresAtMs: number;
}

/** parseOwnedToxicName returns the owner of a sentinel toxic, or undefined for anyone else's. */
export function parseOwnedToxicName(name: string): OwnedToxic | undefined {
  const m = OWNED_RE.exec(name);
  if (!m) return undefined;
  return { runId: m[1], expiresAtMs: Number(m[4]) * 1000 };
}
