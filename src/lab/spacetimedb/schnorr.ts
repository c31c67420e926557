/**
 * schnorr: BIP-340 Schnorr signature verification over secp256k1, as the module's
 * `bind_nostr_presence_identity` does with the `secp256k1` crate (`verify_schnorr`), including
 * that crate's and the `hex` crate's error texts. Verification only, on public data: constant
 * time does not matter here. Algorithm: BIP-340 "Verification" (github.com/bitcoin/bips
 * bip-0340.mediawiki).
 */
import { createHash } from 'node:crypto';

const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const G: Point = {
  x: 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n,
  y: 0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n,
};

interface Point {
  readonly x: bigint;
  readonly y: bigint;
}

function mod(a: bigint, m = P): bigint {
  const r = a % m;
  return r >= 0n ? r : r + m;
}

function inverse(a: bigint): bigint {
  let [r0, r1] = [mod(a), P];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0);
}

function powMod(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

function add(a: Point | null, b: Point | null): Point | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.x === b.x && mod(a.y + b.y) === 0n) return null;
  const lambda = a.x === b.x && a.y === b.y ? mod(3n * a.x * a.x * inverse(2n * a.y)) : mod((b.y - a.y) * inverse(b.x - a.x));
  const x = mod(lambda * lambda - a.x - b.x);
  return { x, y: mod(lambda * (a.x - x) - a.y) };
}

function multiply(p: Point, k: bigint): Point | null {
  let result: Point | null = null;
  let addend: Point | null = p;
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = add(addend, addend);
  }
  return result;
}

/** liftX is the point with x coordinate `x` and an even y, or null when there is none. */
function liftX(x: bigint): Point | null {
  if (x >= P) return null;
  const c = mod(x * x * x + 7n);
  const y = powMod(c, (P + 1n) / 4n);
  if (mod(y * y) !== c) return null;
  return { x, y: y % 2n === 0n ? y : P - y };
}

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function taggedHash(tag: string, ...parts: Uint8Array[]): Uint8Array {
  const t = createHash('sha256').update(tag).digest();
  const h = createHash('sha256').update(t).update(t);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** HexError is what the `hex` crate's `decode` reports (its Display text). */
function hexError(text: string): string | undefined {
  const bad = [...text].findIndex((c) => !/[0-9a-fA-F]/.test(c));
  if (bad >= 0) return `Invalid character ${JSON.stringify(text[bad]).replace(/^"|"$/g, "'")} at position ${bad}`;
  if (text.length % 2 !== 0) return 'Odd number of digits';
  return undefined;
}

/** SchnorrCheck is a verification result with the module's error text on failure. */
export type SchnorrCheck = { readonly ok: true } | { readonly ok: false; readonly message: string };

/**
 * verifySchnorr checks a 64-byte BIP-340 signature (hex) over a 32-byte message by an x-only
 * public key (64 hex), returning the texts the module's `verify_nostr_signature` produces
 * (`invalid nostr pubkey: …`, `invalid signature hex: …`, `invalid schnorr signature bytes: …`,
 * `nostr challenge signature verification failed: …`).
 */
export function verifySchnorr(pubkeyHex: string, message: Uint8Array, signatureHex: string): SchnorrCheck {
  if (!/^[0-9a-fA-F]{64}$/.test(pubkeyHex)) return { ok: false, message: 'invalid nostr pubkey: malformed public key' };
  const pk = Buffer.from(pubkeyHex, 'hex');
  const point = liftX(toBigInt(pk));
  if (point === null) return { ok: false, message: 'invalid nostr pubkey: malformed public key' };
  const hexProblem = hexError(signatureHex);
  if (hexProblem !== undefined) return { ok: false, message: `invalid signature hex: ${hexProblem}` };
  const sig = Buffer.from(signatureHex, 'hex');
  if (sig.length !== 64) return { ok: false, message: 'invalid schnorr signature bytes: malformed signature' };
  const failed = { ok: false, message: 'nostr challenge signature verification failed: signature failed verification' } as const;
  const r = toBigInt(sig.subarray(0, 32));
  const s = toBigInt(sig.subarray(32));
  if (r >= P || s >= N) return failed;
  const e = mod(toBigInt(taggedHash('BIP0340/challenge', sig.subarray(0, 32), pk, message)), N);
  const R = add(multiply(G, s), multiply({ x: point.x, y: P - point.y }, e));
  if (R === null || R.y % 2n !== 0n || R.x !== r) return failed;
  return { ok: true };
}

/**
 * signSchnorr makes a BIP-340 signature (the lab's tests and simulated clients bind presence
 * with it). `aux` is the 32-byte auxiliary randomness.
 */
export function signSchnorr(secretKey: Uint8Array, message: Uint8Array, aux: Uint8Array = new Uint8Array(32)): { signatureHex: string; pubkeyHex: string } {
  const d0 = toBigInt(secretKey);
  if (d0 <= 0n || d0 >= N) throw new RangeError('secret key out of range');
  const pub = multiply(G, d0) as Point;
  const d = pub.y % 2n === 0n ? d0 : N - d0;
  const pk = Buffer.from(pub.x.toString(16).padStart(64, '0'), 'hex');
  const t = Buffer.from(mod(d ^ toBigInt(taggedHash('BIP0340/aux', aux)), 2n ** 256n).toString(16).padStart(64, '0'), 'hex');
  const k0 = mod(toBigInt(taggedHash('BIP0340/nonce', t, pk, message)), N);
  if (k0 === 0n) throw new RangeError('nonce is zero');
  const R = multiply(G, k0) as Point;
  const k = R.y % 2n === 0n ? k0 : N - k0;
  const rBytes = Buffer.from(R.x.toString(16).padStart(64, '0'), 'hex');
  const e = mod(toBigInt(taggedHash('BIP0340/challenge', rBytes, pk, message)), N);
  const s = mod(k + e * d, N);
  return { signatureHex: Buffer.concat([rBytes, Buffer.from(s.toString(16).padStart(64, '0'), 'hex')]).toString('hex'), pubkeyHex: pk.toString('hex') };
}
