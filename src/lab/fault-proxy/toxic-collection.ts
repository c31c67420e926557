import { FaultProxyError } from '../../errors.js';
import type { JsonValue } from './go-json.js';
import { decodeGoStruct, goValueTypeError, GoJsonError, parseGoJson } from './go-json.js';
import type { Direction, ToxicLink } from './toxic-link.js';
import type { ToxicWrapper } from './toxic-wrapper.js';
import { TOXIC_KINDS } from './toxics/index.js';

/** apiError builds an error that the API answers with `status` and Toxiproxy's message. */
export function apiError(message: string, status: number): FaultProxyError {
  return new FaultProxyError(message, { status });
}

/** badRequestBody wraps a decode failure as Toxiproxy's `bad request body: ...` 400. */
export function badRequestBody(err: unknown): FaultProxyError {
  if (err instanceof GoJsonError) return apiError(`bad request body: ${err.message}`, 400);
  throw err;
}

const TOXIC_WRAPPER_FIELDS = [
  { key: 'attributes', kind: { struct: 'toxics.NoopToxic' } },
  { key: 'name', kind: 'string' },
  { key: 'type', kind: 'string' },
  { key: 'stream', kind: 'string' },
  { key: 'toxicity', kind: 'float32' },
] as const;

const TOXIC_UPDATE_GO_TYPE = 'struct { Attributes interface {} "json:\\"attributes\\""; Toxicity float32 "json:\\"toxicity\\"" }';

/** parseDirection is Toxiproxy's stream.ParseDirection: case-insensitive, nothing else accepted. */
function parseDirection(stream: string): Direction | undefined {
  const s = stream.toLowerCase();
  return s === 'upstream' || s === 'downstream' ? s : undefined;
}

function parseBody(body: Buffer): JsonValue {
  try {
    return parseGoJson(body);
  } catch (err) {
    throw badRequestBody(err);
  }
}

/**
 * ToxicCollection is one proxy's toxics (Toxiproxy's ToxicCollection): a chain per stream in add
 * order, and the live links they are pushed to. Callers serialize mutations (the API does).
 */
export class ToxicCollection {
  private readonly chains: Record<Direction, ToxicWrapper[]> = { upstream: [], downstream: [] };
  private readonly links = new Set<ToxicLink>();

  /** list returns upstream toxics first, then downstream, each in add order. */
  list(): ToxicWrapper[] {
    return [...this.chains.upstream, ...this.chains.downstream];
  }

  chain(direction: Direction): readonly ToxicWrapper[] {
    return this.chains[direction];
  }

  find(name: string): ToxicWrapper | undefined {
    return this.list().find((w) => w.name === name);
  }

  has(type: string): boolean {
    return this.list().some((w) => w.type === type);
  }

  addLink(link: ToxicLink): void {
    this.links.add(link);
  }

  removeLink(link: ToxicLink): void {
    this.links.delete(link);
  }

  /** addToxicJson is POST /proxies/{proxy}/toxics, with Toxiproxy's check order and messages. */
  async addToxicJson(body: Buffer): Promise<ToxicWrapper> {
    const value = parseBody(body);
    const fields: Record<string, unknown> = { stream: 'downstream', toxicity: 1, name: '', type: '' };
    let attributes: Extract<JsonValue, { t: 'object' }> | undefined;
    if (value.t === 'object') {
      const ctx = { structName: 'ToxicWrapper', path: [] as string[], firstError: undefined as string | undefined };
      decodeGoStruct(value, TOXIC_WRAPPER_FIELDS, ctx, fields, (_key, v) => {
        attributes = v;
      });
      if (ctx.firstError !== undefined) throw apiError(`bad request body: ${ctx.firstError}`, 400);
    } else if (value.t !== 'null') {
      throw apiError(`bad request body: ${goValueTypeError(value, 'toxics.ToxicWrapper')}`, 400);
    }
    const stream = String(fields.stream);
    const direction = parseDirection(stream);
    if (!direction) throw apiError('stream was invalid, can be either upstream or downstream', 400);
    const type = String(fields.type);
    const name = String(fields.name) === '' ? `${type}_${stream}` : String(fields.name);
    const kind = TOXIC_KINDS.get(type);
    if (!kind) throw apiError('invalid toxic type', 400);
    if (this.find(name)) throw apiError('toxic already exists', 409);
    const toxic = kind.create();
    if (attributes) {
      const ctx = { structName: kind.goStruct, path: ['attributes'] as string[], firstError: undefined as string | undefined };
      decodeGoStruct(attributes, kind.fields, ctx, toxic.attrs);
      if (ctx.firstError !== undefined) throw apiError(`bad request body: ${ctx.firstError}`, 400);
    }
    const wrapper: ToxicWrapper = { name, type, stream, direction, toxicity: Number(fields.toxicity), kind, toxic };
    await this.chainAdd(wrapper);
    return wrapper;
  }

  /**
   * updateToxicJson is POST/PATCH /proxies/{proxy}/toxics/{toxic}: attributes merge into the live
   * settings (a type error leaves the other keys applied, as in Go), toxicity is kept if omitted,
   * and every open link restarts the toxic's stage.
   */
  async updateToxicJson(name: string, body: Buffer): Promise<ToxicWrapper> {
    const wrapper = this.find(name);
    if (!wrapper) throw apiError('toxic not found', 404);
    const value = parseBody(body);
    const fields: Record<string, unknown> = { toxicity: wrapper.toxicity };
    if (value.t === 'object') {
      const ctx = { structName: '', path: [] as string[], firstError: undefined as string | undefined };
      decodeGoStruct(
        value,
        [
          { key: 'attributes', kind: { struct: `toxics.${wrapper.kind.goStruct}` } },
          { key: 'toxicity', kind: 'float32' },
        ],
        ctx,
        fields,
        (_key, v, path) => {
          const inner = { structName: wrapper.kind.goStruct, path: [...path], firstError: undefined as string | undefined };
          decodeGoStruct(v, wrapper.kind.fields, inner, wrapper.toxic.attrs);
          if (ctx.firstError === undefined && inner.firstError !== undefined) ctx.firstError = inner.firstError;
        },
      );
      if (ctx.firstError !== undefined) throw apiError(`bad request body: ${ctx.firstError}`, 400);
    } else if (value.t !== 'null') {
      throw apiError(`bad request body: ${goValueTypeError(value, TOXIC_UPDATE_GO_TYPE)}`, 400);
    }
    wrapper.toxicity = Number(fields.toxicity);
    const index = this.chains[wrapper.direction].indexOf(wrapper);
    await Promise.all(this.linksOf(wrapper.direction).map((l) => l.updateToxic(wrapper, index)));
    return wrapper;
  }

  /** removeToxic is DELETE /proxies/{proxy}/toxics/{toxic}. */
  async removeToxic(name: string): Promise<void> {
    const wrapper = this.find(name);
    if (!wrapper) throw apiError('toxic not found', 404);
    await this.chainRemove(wrapper);
  }

  /** reset removes every toxic, from every live link (timeout toxics close theirs). */
  async reset(): Promise<void> {
    for (const direction of ['upstream', 'downstream'] as const) {
      while (this.chains[direction].length > 0) await this.chainRemove(this.chains[direction][0]);
    }
  }

  private linksOf(direction: Direction): ToxicLink[] {
    return [...this.links].filter((l) => l.direction === direction);
  }

  private async chainAdd(w: ToxicWrapper): Promise<void> {
    const chain = this.chains[w.direction];
    const previous = chain.length > 0 ? chain[chain.length - 1] : null;
    chain.push(w);
    await Promise.all(this.linksOf(w.direction).map((l) => l.addToxic(w, previous)));
  }

  private async chainRemove(w: ToxicWrapper): Promise<void> {
    const chain = this.chains[w.direction];
    const index = chain.indexOf(w);
    if (index < 0) return;
    const previous = index > 0 ? chain[index - 1] : null;
    chain.splice(index, 1);
    await Promise.all(this.linksOf(w.direction).map((l) => l.removeToxic(w, index, previous)));
  }
}
