/**
 * store: the sample store (in memory for reads, persisted for restarts, retention).
 */
export type { Labels, Sample, MatchType, LabelMatcher, SeriesData, LatestSample, LatestReader, LabelIndex, AppendResult, Appender, SampleStore } from './types.js';
export { labelsKey, metricName, normalizeLabels } from './labels-key.js';
export { MemoryStore, DEFAULT_RETENTION_MS, DEFAULT_MAX_SERIES } from './memory-store.js';
export type { MemoryStoreOptions } from './memory-store.js';
export { RefusalReasons } from './store-metrics.js';
export type { RefusalReason } from './store-metrics.js';
export { SqliteStore, openSampleStore, STORE_FILE } from './sqlite-store.js';
export type { OpenSampleStoreOptions } from './sqlite-store.js';
export { openSqliteFile } from './sqlite-file.js';
export { StoreComponent, DEFAULT_RETENTION_INTERVAL_MS } from './store-component.js';
export type { StoreComponentOptions } from './store-component.js';
export { MetricMetadataRegistry, MetricTypes } from './metric-metadata.js';
export type { MetricType, MetricMetadata, MetricDescriber, MetricMetadataSource } from './metric-metadata.js';
