import type { Direction } from './toxic-link.js';
import type { Toxic, ToxicKind } from './toxics/index.js';
import { formatFloat32, formatInt, goJsonString } from './go-json.js';

/** ToxicWrapper is one toxic on a proxy: its API fields plus the settings object links run. */
export interface ToxicWrapper {
  readonly name: string;
  readonly type: string;
  /** stream is stored as sent (`UPSTREAM` stays so); `direction` is what it parsed to. */
  readonly stream: string;
  readonly direction: Direction;
  /** toxicity is a float32, as in Go: the chance per link and (re)start that the toxic runs. */
  toxicity: number;
  readonly kind: ToxicKind;
  readonly toxic: Toxic;
}

/** toxicToJson renders a toxic as Toxiproxy does: attributes, name, type, stream, toxicity. */
export function toxicToJson(w: ToxicWrapper): string {
  const attrs = w.kind.fields.map((f) => `${goJsonString(f.key)}:${formatInt(w.toxic.attrs[f.key] ?? 0)}`).join(',');
  return `{"attributes":{${attrs}},"name":${goJsonString(w.name)},"type":${goJsonString(w.type)},"stream":${goJsonString(w.stream)},"toxicity":${formatFloat32(w.toxicity)}}`;
}
