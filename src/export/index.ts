/**
 * export: what leaves the process for other systems: the /metrics exposition of every series the
 * probes record (from the sample store) beside the sentinel's own instruments, the opt-in
 * compatibility families under the operators' metric names, and remote_write of every recorded
 * sample. Writers reach the store through `tapAppends`, so the exporters listen to the same commits.
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
export { RemoteWriter, MAX_RETRY_AFTER_MS } from './remote-write.js';
export type { RemoteWriterOptions, RemoteWriteQueueSettings } from './remote-write.js';
export { RemoteWriteQueue } from './remote-write-queue.js';
export type { PendingSend, RemoteWriteQueueOptions } from './remote-write-queue.js';
export { RemoteWriteClient, parseRetryAfter } from './remote-write-client.js';
export type { CredentialSource, RemoteWriteClientOptions, SendOutcome } from './remote-write-client.js';
export { createRemoteWriteMetrics, DropReasons } from './remote-write-metrics.js';
export type { DropReason, RemoteWriteMetrics } from './remote-write-metrics.js';
export { encodeWriteRequest, decodeWriteRequest } from './remote-write-proto.js';
export type { DecodedSeries, WriteSample, WriteSeries } from './remote-write-proto.js';
