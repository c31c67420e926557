import { describe, expect, it } from 'vitest';
import { decodeGoStruct, formatFloat32, goJsonString, parseGoJson } from '../../../src/lab/fault-proxy/go-json.js';
import { formatAddr, resolveTcpAddr, splitHostPort } from '../../../src/lab/fault-proxy/go-addr.js';

function syntaxError(text: string): string {
  try {
    parseGoJson(Buffer.from(text));
  } catch (err) {
    return (err as Error).message;
  }
  return 'no error';
}

describe('parseGoJson reports syntax errors in Go encoding/json words', () => {
  it.each([
    ['', 'EOF'],
    ['   ', 'EOF'],
    ['{', 'unexpected EOF'],
    ['{"a":1', 'unexpected EOF'],
    ['-', 'unexpected EOF'],
    ['x', "invalid character 'x' looking for beginning of value"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ['{"a":1 x', "invalid character 'x' after object key:value pair"],
    ['[1,]', "invalid character ']' looking for beginning of value"],
    ['[1 2]', "invalid character '2' after array element"],
    ['{"a":tru}', "invalid character '}' in literal true (expecting 'e')"],
    ['{"a":-x}', "invalid character 'x' in numeric literal"],
    ['{"a":1.x}', "invalid character 'x' after decimal point in numeric literal"],
    ['{"a":1ex}', "invalid character 'x' in exponent of numeric literal"],
    ['"a\nb"', "invalid character '\\n' in string literal"],
    ['"\\q"', "invalid character 'q' in string escape code"],
    ["'a'", "invalid character '\\'' looking for beginning of value"],
  ])('%j → %s', (text, message) => {
    expect(syntaxError(text)).toBe(message);
  });

  it('ignores what follows the first value, as json.Decoder does', () => {
    expect(parseGoJson(Buffer.from('{"a":1} trailing garbage'))).toEqual({ t: 'object', entries: [['a', { t: 'number', raw: '1' }]] });
    expect(parseGoJson(Buffer.from('0 1'))).toEqual({ t: 'number', raw: '0' });
  });

  it('decodes escapes including \\u', () => {
    expect(parseGoJson(Buffer.from('"a\\u00e9\\n\\/"'))).toEqual({ t: 'string', v: 'aé\n/' });
  });
});

describe('decodeGoStruct', () => {
  const fields = [
    { key: 'latency', kind: 'int64' },
    { key: 'toxicity', kind: 'float32' },
    { key: 'name', kind: 'string' },
  ] as const;

  function decode(text: string): { out: Record<string, unknown>; error?: string } {
    const v = parseGoJson(Buffer.from(text));
    if (v.t !== 'object') throw new Error('object expected');
    const out: Record<string, unknown> = { latency: 7, toxicity: 1, name: 'keep' };
    const ctx = { structName: 'T', path: ['attributes'], firstError: undefined as string | undefined };
    decodeGoStruct(v, fields, ctx, out);
    return { out, error: ctx.firstError };
  }

  it('matches keys case-insensitively, lets null keep the value and the last duplicate win', () => {
    expect(decode('{"LATENCY":5,"name":null,"latency":6}')).toEqual({ out: { latency: 6, toxicity: 1, name: 'keep' }, error: undefined });
  });

  it('keeps decoding after the first type error and reports only that one', () => {
    const r = decode('{"latency":"x","name":"set","toxicity":true}');
    expect(r.error).toBe('json: cannot unmarshal string into Go struct field T.attributes.latency of type int64');
    expect(r.out.name).toBe('set');
  });

  it('rejects fractions, exponents and overflow for integers with the literal in the message', () => {
    expect(decode('{"latency":1.5}').error).toBe('json: cannot unmarshal number 1.5 into Go struct field T.attributes.latency of type int64');
    expect(decode('{"latency":1e3}').error).toBe('json: cannot unmarshal number 1e3 into Go struct field T.attributes.latency of type int64');
    expect(decode('{"latency":9223372036854775808}').error).toContain('number 9223372036854775808');
    expect(decode('{"latency":-9223372036854775808}').error).toBeUndefined();
  });

  it('stores float32 values and rejects float32 overflow', () => {
    expect(decode('{"toxicity":0.2}').out.toxicity).toBe(Math.fround(0.2));
    expect(decode('{"toxicity":1e39}').error).toBe('json: cannot unmarshal number 1e39 into Go struct field T.attributes.toxicity of type float32');
  });
});

describe('Go output formatting', () => {
  it('prints float32 values with the shortest round-tripping digits', () => {
    expect(formatFloat32(Math.fround(0.2))).toBe('0.2');
    expect(formatFloat32(Math.fround(0.123456789))).toBe('0.12345679');
    expect(formatFloat32(1)).toBe('1');
    expect(formatFloat32(0)).toBe('0');
    expect(formatFloat32(Math.fround(2.5))).toBe('2.5');
  });

  it('escapes HTML characters like json.Marshal', () => {
    expect(goJsonString('<a&b>')).toBe('"\\u003ca\\u0026b\\u003e"');
  });
});

describe('Go address rules', () => {
  it.each([
    ['local373', 'address local373: missing port in address'],
    ['bad::addr::x', 'address bad::addr::x: too many colons in address'],
    ['[::1', "address [::1: missing ']' in address"],
    ['[::1]', 'address [::1]: missing port in address'],
    ['[::1]x:1', 'address [::1]x:1: missing port in address'],
  ])('splitHostPort(%j) fails with %s', (addr, message) => {
    expect(() => splitHostPort(addr)).toThrow(message);
  });

  it('resolves like ResolveTCPAddr and prints like TCPAddr.String', async () => {
    expect(formatAddr(await resolveTcpAddr('localhost:7070'))).toBe('127.0.0.1:7070');
    expect(formatAddr(await resolveTcpAddr('[::1]:80'))).toBe('[::1]:80');
    expect(formatAddr(await resolveTcpAddr(':0'))).toBe(':0');
    await expect(resolveTcpAddr('127.0.0.1:70000')).rejects.toThrow('address 70000: invalid port');
    await expect(resolveTcpAddr('127.0.0.1:http2x')).rejects.toThrow('lookup tcp/http2x: unknown port');
  });
});
