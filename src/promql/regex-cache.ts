/**
 * RegexCache compiles fully anchored RE2 regexes (Prometheus' `^(?:re)$`) once per pattern.
 * One engine owns one cache, bounded so a stream of distinct patterns cannot grow it forever.
 */
import { RE2JS } from 're2js';

/** RegexCache maps a pattern to its compiled, anchored RE2 program. */
export class RegexCache {
  private readonly compiled = new Map<string, RE2JS>();
  constructor(private readonly maxEntries = 1000) {}

  /** get returns the anchored regex for `pattern`; throws re2js' syntax error if it is invalid. */
  get(pattern: string): RE2JS {
    let re = this.compiled.get(pattern);
    if (re === undefined) {
      re = RE2JS.compile(`^(?:${pattern})$`);
      if (this.compiled.size >= this.maxEntries) {
        const oldest = this.compiled.keys().next().value;
        if (oldest !== undefined) this.compiled.delete(oldest);
      }
      this.compiled.set(pattern, re);
    }
    return re;
  }
}
