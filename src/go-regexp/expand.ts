/**
 * Go's regexp template expansion (`regexp/regexp.go` expand and extract), which Prometheus'
 * label_replace (Regexp.ExpandString) and the templates' reReplaceAll (Regexp.ReplaceAllString)
 * apply to their replacement strings.
 */

/** A group reference: its number, or its name when the reference is not a plain number. */
export type GroupRef = number | string;

/**
 * expandGoTemplate replaces `$1`, `${1}`, `$name` and `${name}` by what `group` returns for them
 * and `$$` by `$`. A name is the longest run of letters, digits and `_` (so `$1x` names the
 * group `1x`); a number with a leading zero or of 1e8 and more is a name; a `$` followed by no
 * valid reference stays as it is.
 */
export function expandGoTemplate(template: string, group: (ref: GroupRef) => string): string {
  let out = '';
  let rest = template;
  for (let at = rest.indexOf('$'); at >= 0; at = rest.indexOf('$')) {
    out += rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const ref = extract(rest);
    if (ref === undefined) {
      out += '$';
      continue;
    }
    out += group(ref.ref);
    rest = ref.rest;
  }
  return out + rest;
}

const NAME_RE = /^[\p{L}\p{Nd}_]+/u;

/** Go's extract: the reference at the start of s (after the `$`) and the text after it. */
function extract(s: string): { ref: GroupRef; rest: string } | undefined {
  const brace = s.startsWith('{');
  const body = brace ? s.slice(1) : s;
  const name = NAME_RE.exec(body)?.[0];
  if (name === undefined) return undefined;
  let end = name.length;
  if (brace) {
    if (body[end] !== '}') return undefined;
    end++;
  }
  let num = 0;
  for (const c of name) {
    if (c < '0' || c > '9' || num >= 1e8) {
      num = -1;
      break;
    }
    num = num * 10 + Number(c);
  }
  if (name[0] === '0' && name.length > 1) num = -1;
  return { ref: num >= 0 ? num : name, rest: body.slice(end) };
}
