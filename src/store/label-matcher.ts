/**
 * Compiled label matchers: PromQL's `=`, `!=`, `=~`, `!~` over a label set, where an absent label
 * reads as '' and regexes are RE2, fully anchored (`^(?:re)$`, as Prometheus 2.x compiles them).
 */
import { RE2JS } from 're2js';
import { StoreError } from '../errors.js';
import type { LabelMatcher, Labels } from './types.js';

/** LabelPredicate tells whether one label set satisfies a matcher. */
export type LabelPredicate = (labels: Labels) => boolean;

/** RegexCache keeps compiled regexes per store: rules run the same selectors every evaluation. */
export class RegexCache {
  private readonly compiled = new Map<string, RE2JS>();
  private readonly maxEntries: number;

  constructor(maxEntries = 1000) {
    this.maxEntries = maxEntries;
  }

  /** get compiles `^(?:pattern)$`; an invalid pattern is a StoreError naming it. */
  get(pattern: string): RE2JS {
    let re = this.compiled.get(pattern);
    if (re) return re;
    try {
      re = RE2JS.compile(`^(?:${pattern})$`);
    } catch (err) {
      throw new StoreError('SENTINEL_STORE', `label matcher regex ${JSON.stringify(pattern)} is not valid RE2 syntax; fix the selector`, { cause: err });
    }
    if (this.compiled.size >= this.maxEntries) this.compiled.clear();
    this.compiled.set(pattern, re);
    return re;
  }
}

/** compileMatcher turns one matcher into a predicate. */
export function compileMatcher(m: LabelMatcher, regexes: RegexCache): LabelPredicate {
  const name = m.name;
  const value = m.value;
  switch (m.type) {
    case '=':
      return (l) => (l[name] ?? '') === value;
    case '!=':
      return (l) => (l[name] ?? '') !== value;
    case '=~': {
      const re = regexes.get(value);
      return (l) => re.matches(l[name] ?? '');
    }
    case '!~': {
      const re = regexes.get(value);
      return (l) => !re.matches(l[name] ?? '');
    }
    default: {
      const never: never = m.type;
      throw new StoreError('SENTINEL_STORE', `unknown label matcher type ${String(never)}`);
    }
  }
}

/** matcherMatchesEmpty tells whether a matcher accepts a series that lacks the label. */
export function matcherMatchesEmpty(m: LabelMatcher, regexes: RegexCache): boolean {
  return compileMatcher(m, regexes)({});
}
