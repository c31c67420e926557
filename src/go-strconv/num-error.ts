/**
 * Go's strconv.NumError: what ParseFloat and ParseInt return instead of a value, worded as Go
 * words it (`strconv.ParseFloat: parsing "x": invalid syntax`), since Prometheus passes that text
 * on to users (template expansion errors, PromQL parse errors). Go `strconv/atoi.go`.
 */
import { quoteGoString } from './quote.js';

/** The two reasons of Go's strconv: ErrSyntax and ErrRange. */
export type NumErrorReason = 'invalid syntax' | 'value out of range';

export class NumError extends Error {
  constructor(
    readonly func: 'ParseFloat' | 'ParseInt',
    readonly num: string,
    readonly reason: NumErrorReason,
  ) {
    super(`strconv.${func}: parsing ${quoteGoString(num)}: ${reason}`);
    this.name = 'NumError';
  }
}

/** A parse result as Go returns it: a value, and an error beside it when parsing failed. */
export interface Parsed<T> {
  /** On a range error the clamped value Go returns (±Inf, or the int64 bound), else 0 on error. */
  readonly value: T;
  readonly error?: NumError;
}
