import { BandwidthToxic } from './bandwidth.js';
import { LatencyToxic } from './latency.js';
import { LimitDataToxic } from './limit-data.js';
import { NoopToxic } from './noop.js';
import { ResetPeerToxic } from './reset-peer.js';
import { SlicerToxic } from './slicer.js';
import { SlowCloseToxic } from './slow-close.js';
import { TimeoutToxic } from './timeout.js';
import type { ToxicKind } from './types.js';

export type { Chunk, StubIo, Toxic, ToxicKind } from './types.js';
export { INTERRUPTED, TIMED_OUT } from './types.js';
export { NoopToxic } from './noop.js';
export { LatencyToxic } from './latency.js';
export { BandwidthToxic } from './bandwidth.js';
export { SlowCloseToxic } from './slow-close.js';
export { TimeoutToxic } from './timeout.js';
export { ResetPeerToxic } from './reset-peer.js';
export { SlicerToxic } from './slicer.js';
export { LimitDataToxic } from './limit-data.js';
export type { LimitDataState } from './limit-data.js';

/**
 * TOXIC_KINDS is the registry of Toxiproxy 2.12.0's built-in toxic types, keyed by type name.
 * `down` is not a type (disable the proxy instead). Field lists follow the Go structs: their
 * order is the JSON order and their Go types drive decode errors.
 */
export const TOXIC_KINDS: ReadonlyMap<string, ToxicKind> = new Map<string, ToxicKind>([
  ['noop', { goStruct: 'NoopToxic', fields: [], create: () => new NoopToxic() }],
  ['latency', { goStruct: 'LatencyToxic', fields: [{ key: 'latency', kind: 'int64' }, { key: 'jitter', kind: 'int64' }], create: () => new LatencyToxic() }],
  ['bandwidth', { goStruct: 'BandwidthToxic', fields: [{ key: 'rate', kind: 'int64' }], create: () => new BandwidthToxic() }],
  ['slow_close', { goStruct: 'SlowCloseToxic', fields: [{ key: 'delay', kind: 'int64' }], create: () => new SlowCloseToxic() }],
  ['timeout', { goStruct: 'TimeoutToxic', fields: [{ key: 'timeout', kind: 'int64' }], create: () => new TimeoutToxic() }],
  ['reset_peer', { goStruct: 'ResetToxic', fields: [{ key: 'timeout', kind: 'int64' }], create: () => new ResetPeerToxic() }],
  [
    'slicer',
    {
      goStruct: 'SlicerToxic',
      fields: [{ key: 'average_size', kind: 'int' }, { key: 'size_variation', kind: 'int' }, { key: 'delay', kind: 'int' }],
      create: () => new SlicerToxic(),
    },
  ],
  ['limit_data', { goStruct: 'LimitDataToxic', fields: [{ key: 'bytes', kind: 'int64' }], create: () => new LimitDataToxic() }],
]);
