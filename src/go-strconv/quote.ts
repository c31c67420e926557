/**
 * Go's strconv.Quote, which `%q`, Prometheus' label printing and promtool's messages use: Go
 * escapes (`\a \b \f \n \r \t \v`), `\xNN` for other ASCII controls, `\uNNNN`/`\UNNNNNNNN` for
 * runes Go does not consider printable.
 */

function isPrintable(cp: number): boolean {
  if (cp < 0x20 || cp === 0x7f) return false;
  if (cp >= 0x80 && cp < 0xa0) return false;
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  if (cp === 0xfeff) return false;
  return true;
}

/** quoteGoString quotes a string like Go's `strconv.Quote` (`%q`). */
export function quoteGoString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (isPrintable(cp)) out += ch;
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}
