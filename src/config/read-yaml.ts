/**
 * Reading a configuration or drill file: its YAML with positions (YamlFile), or one ConfigError
 * naming the file, the line and what to do.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { YamlFile } from '../yaml/index.js';

/** parseYamlSource parses YAML text; a syntax error becomes a ConfigError naming FILE:LINE:COL. */
export function parseYamlSource(file: string, text: string): YamlFile {
  const source = new YamlFile(file, text);
  // Only the first syntax error: the parser's later ones are mostly knock-on noise.
  const first = source.syntaxErrors[0];
  if (first !== undefined) {
    const line = `${file}:${first.pos?.line ?? 1}:${first.pos?.col ?? 1}: YAML syntax error: ${first.message}`;
    throw new ConfigError(line, [line]);
  }
  return source;
}

/**
 * readYamlSource reads and parses a YAML file; an unreadable file is a ConfigError naming it.
 * `displayName` is how messages name the file (default: `path` as given).
 */
export function readYamlSource(path: string, displayName: string = path): YamlFile {
  const file = displayName;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read file (${(err as NodeJS.ErrnoException).code ?? 'error'})`;
    const line = `${file}: ${reason}; pass an existing file with --config`;
    throw new ConfigError(line, [line], { cause: err });
  }
  return parseYamlSource(file, text);
}
