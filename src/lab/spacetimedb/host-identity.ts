/**
 * host-identity: the one database the host serves, by name or identity, and its owner.
 */
import { createHash } from 'node:crypto';

/** HostIdentity names the served database and answers lookups by name or identity. */
export class HostIdentity {
  /** databaseIdentity is the database's identity (64 hex, no `0x`). */
  readonly databaseIdentity: string;
  /** ownerIdentity is the identity the module was published by (internal calls run as it). */
  readonly ownerIdentity: string;

  constructor(readonly databaseName: string) {
    this.databaseIdentity = `c200${createHash('sha256').update(`database|${databaseName}`).digest('hex').slice(0, 60)}`;
    this.ownerIdentity = `c200${createHash('sha256').update(`owner|${databaseName}`).digest('hex').slice(0, 60)}`;
  }

  /** resolve returns the 404 body SpacetimeDB answers for an unknown name or identity, or undefined. */
  resolve(nameOrIdentity: string): string | undefined {
    if (/^[0-9a-fA-F]{64}$/.test(nameOrIdentity)) return nameOrIdentity.toLowerCase() === this.databaseIdentity ? undefined : 'No such database.';
    return nameOrIdentity === this.databaseName ? undefined : `\`${nameOrIdentity}\` not found`;
  }
}
