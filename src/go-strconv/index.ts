/**
 * go-strconv: Go's number and string conversions (strconv.FormatFloat, strconv.Quote,
 * strconv.ParseFloat, strconv.ParseInt), shared by the PromQL engine (values, labels, number
 * literals, errors in Prometheus' words) and the alert templates (fmt verbs, `%v`, humanize), so
 * both read and print exactly as Prometheus and promtool do.
 */
export { formatFloatGo, formatGoFloat, formatGoFloatPlain } from './format-float.js';
export { NumError } from './num-error.js';
export type { NumErrorReason, Parsed } from './num-error.js';
export { parseGoFloat } from './parse-float.js';
export { parseGoInt } from './parse-int.js';
export { quoteGoString } from './quote.js';
