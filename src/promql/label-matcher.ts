/**
 * Label matchers as PromQL defines them: `=`, `!=`, `=~`, `!~` over a label set, where an absent
 * label reads as '' and regexes are RE2, fully anchored (`^(?:re)$`, as Prometheus 2.x compiles
 * them in `model/labels/regexp.go`). The store evaluates the matchers the engine hands it with
 * these, and `label_replace` compiles its regex through the same cache.
 */
import { RE2JS } from 're2js';
import { QueryError } from '../errors.js';
import type { LabelMatcher, Labels } from './queryable.js';

/** LabelPredicate tells whether one label set satisfies a matcher. */
export type LabelPredicate = (labels: Labels) => boolean;

/** DEFAULT_REGEX_CACHE_SIZE bounds one cache: rules use a few dozen patterns; a stream of distinct ones must not grow it forever. */
const DEFAULT_REGEX_CACHE_SIZE = 1000;

/**
 * RegexCache compiles each anchored pattern once. It forgets the least recently used pattern
 * when full, so the patterns rules run every evaluation stay compiled while one-off API queries
 * come and go.
 */
export class RegexCache {
  private readonly compiled = new Map<string, RE2JS>();

  constructor(private readonly maxEntries = DEFAULT_REGEX_CACHE_SIZE) {}

  /** get returns the anchored regex for `pattern`; throws re2js' syntax error if it is invalid. */
  get(pattern: string): RE2JS {
    let re = this.compiled.get(pattern);
    if (re !== undefined) {
      // Move to the back: Map iteration order is the eviction order.
      this.compiled.delete(pattern);
      this.compiled.set(pattern, re);
      return re;
    }
    re = RE2JS.compile(`^(?:${pattern})$`);
    if (this.compiled.size >= this.maxEntries) {
      const oldest = this.compiled.keys().next().value;
      if (oldest !== undefined) this.compiled.delete(oldest);
    }
    this.compiled.set(pattern, re);
    return re;
  }
}

/** compileMatcher turns one matcher into a predicate; an invalid regex is a QueryError naming it. */
export function compileMatcher(m: LabelMatcher, regexes: RegexCache): LabelPredicate {
  const name = m.name;
  const value = m.value;
  switch (m.type) {
    case '=':
      return (l) => (l[name] ?? '') === value;
    case '!=':
      return (l) => (l[name] ?? '') !== value;
    case '=~': {
      const re = compileRegex(value, regexes);
      return (l) => re.matches(l[name] ?? '');
    }
    case '!~': {
      const re = compileRegex(value, regexes);
      return (l) => !re.matches(l[name] ?? '');
    }
    default: {
      const never: never = m.type;
      throw new QueryError(`unknown label matcher type ${String(never)}`);
    }
  }
}

function compileRegex(pattern: string, regexes: RegexCache): RE2JS {
  try {
    return regexes.get(pattern);
  } catch (err) {
    throw new QueryError(`label matcher regex ${JSON.stringify(pattern)} is not valid RE2 syntax; fix the selector`, { cause: err });
  }
}
