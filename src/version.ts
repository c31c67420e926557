/**
 * sentinelVersion: the version of the package this file belongs to, read once from its
 * package.json (the same file whether it runs from `src/` or the compiled `dist/`). It goes into
 * `sentinel --version`, `sentinel_build_info`, `/api/v1/status` and every piece of evidence.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** sentinelVersion returns the package version, or `0.0.0-unknown` outside a package. */
export function sentinelVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'spacetime-sentinel' && pkg.version) return (cached = pkg.version);
    }
    dir = dirname(dir);
  }
  return (cached = '0.0.0-unknown');
}
