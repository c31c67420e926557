import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuv';

/**
 * createRequestIdSource returns a generator of xid-shaped ids (20 chars of base32hex, as
 * zerolog's hlog.RequestIDHandler puts in `X-Toxiproxy-Request-Id`): 4 bytes of seconds, 5
 * random bytes for machine and process, a 3-byte counter.
 */
export function createRequestIdSource(nowMs: () => number): () => string {
  const machine = randomBytes(5);
  let counter = randomBytes(3).readUIntBE(0, 3);
  return () => {
    const id = Buffer.alloc(12);
    id.writeUInt32BE(Math.floor(nowMs() / 1000) >>> 0, 0);
    machine.copy(id, 4);
    counter = (counter + 1) & 0xffffff;
    id.writeUIntBE(counter, 9, 3);
    let bits = 0;
    let value = 0;
    let out = '';
    for (const byte of id) {
      value = (value << 8) | byte;
      bits += 8;
      while (bits >= 5) {
        out += ALPHABET[(value >>> (bits - 5)) & 31];
        bits -= 5;
      }
    }
    if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
    return out;
  };
}
