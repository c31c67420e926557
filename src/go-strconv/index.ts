/**
 * go-strconv: Go's number and string formatting (strconv.FormatFloat, strconv.Quote), shared by
 * the PromQL engine (values, labels, errors in Prometheus' words) and the alert templates
 * (fmt verbs, `%v`, humanize), so both print exactly as Prometheus and promtool do.
 */
export { formatFloatGo, formatGoFloat, formatGoFloatPlain } from './format-float.js';
export { quoteGoString } from './quote.js';
