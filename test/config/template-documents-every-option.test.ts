import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { daemonSchema } from '../../src/config/daemon-schema.js';

const repo = resolve(import.meta.dirname, '../..');

type Def = { type: string; innerType?: Schema; in?: Schema; shape?: Record<string, Schema>; element?: Schema };
type Schema = { _zod: { def: Def } };

/** optionNames walks the schema (the source of truth) and lists every key it accepts. */
function optionNames(root: Schema): Set<string> {
  const names = new Set<string>();
  const walk = (schema: Schema | undefined): void => {
    let s = schema;
    for (;;) {
      const def: Def | undefined = s?._zod.def;
      if (def?.innerType) s = def.innerType;
      else if (def?.type === 'pipe' && def.in) s = def.in;
      else break;
    }
    const def = s?._zod.def;
    if (def?.type === 'object' && def.shape) {
      for (const [key, child] of Object.entries(def.shape)) {
        names.add(key);
        walk(child);
      }
    } else if (def?.type === 'array') walk(def.element);
  };
  walk(root);
  return names;
}

describe('config/sentinel.yaml', () => {
  it('mentions every option the schema accepts', () => {
    const names = optionNames(daemonSchema as unknown as Schema);
    expect(names.size).toBeGreaterThan(50);
    const template = readFileSync(resolve(repo, 'config/sentinel.yaml'), 'utf8');
    expect([...names].filter((name) => !new RegExp(`\\b${name}\\b`).test(template))).toEqual([]);
  });

  it('is a valid staging configuration', () => {
    const config = loadConfig(resolve(repo, 'config/sentinel.yaml'), { env: { SENTINEL_CONTROL_SESSION_TOKEN: 'b' } });
    expect(config.environment).toBe('staging');
    expect(config.target.spacetimedb.baseUrl).toBe('https://spacetime.staging.example');
    expect(Object.keys(config.probes)).toHaveLength(10);
  });
});
