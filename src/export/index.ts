/**
 * export: what leaves the process for other systems. Today the /metrics exposition of every
 * series the probes record (from the sample store) beside the sentinel's own instruments, and the
 * opt-in compatibility families under the operators' metric names. Writers reach the store
 * through `tapAppends`, so another exporter (remote_write) can listen to the same commits.
 */
export { tapAppends } from './append-tap.js';
export type { Appendable, AppendListener, TappedSample } from './append-tap.js';
export { RecordedNames } from './recorded-names.js';
export { FamilyResolver, UNDESCRIBED_HELP } from './family-resolver.js';
export type { FamilyInfo, FamilyResolverOptions } from './family-resolver.js';
export { StoreFamilies } from './store-families.js';
export type { NameList, StoreFamiliesOptions } from './store-families.js';
export { MetricsExposition } from './metrics-exposition.js';
export type { FamilySource, MetricsSource, MetricsExpositionOptions } from './metrics-exposition.js';
export { renderFamilies, formatLabels, formatValue, TEXT_CONTENT_TYPE } from './text-format.js';
export type { ExposedFamily, ExposedSeries } from './text-format.js';
export { CompatFamilies, compatFamilyDefs, CompatSourceLabels } from './compat-families.js';
export type { CompatFamilyDef, CompatInput, CompatFamiliesOptions, CompatSourceLabel } from './compat-families.js';
export { createMetricsExposition } from './create-metrics-exposition.js';
export type { CreateMetricsExpositionOptions } from './create-metrics-exposition.js';
