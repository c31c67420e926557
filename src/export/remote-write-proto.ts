/**
 * The Prometheus remote-write 1.0 wire format: a protobuf `WriteRequest` (Prometheus
 * `prompb/remote.proto` and `prompb/types.proto`, the messages and fields protocol 1.0 sends),
 * encoded by protobufjs from the schema text below.
 *
 * One deviation, invisible on the wire: the encoder's `Sample.value` is declared `fixed64` and
 * given the float64's bits. Protobuf encodes `double` and `fixed64` identically (wire type 1,
 * eight little-endian bytes), and this is the only way to send Prometheus' stale marker
 * (the NaN with bits 0x7ff0000000000002, `model/value/value.go` `StaleNaN`) exactly: JavaScript
 * engines do not keep a NaN's payload through ordinary number handling. `writeRequestDecoder`
 * reads with the upstream declaration (`double`), as a receiver does.
 */
import protobuf from 'protobufjs';
import type { Labels } from '../store/index.js';

/**
 * The WriteRequest messages of `prompb/types.proto` and `prompb/remote.proto`, with
 * `Sample.value` declared as `valueType`: `double` upstream, `fixed64` to send exact bits.
 */
function writeRequestType(valueType: 'double' | 'fixed64'): protobuf.Type {
  const schema = `
syntax = "proto3";
package prometheus;

message Label {
  string name = 1;
  string value = 2;
}

message Sample {
  ${valueType} value = 1;
  int64 timestamp = 2;
}

message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
}

message WriteRequest {
  repeated TimeSeries timeseries = 1;
}
`;
  return protobuf.parse(schema, { keepCase: true }).root.lookupType('prometheus.WriteRequest');
}

/** What the sentinel encodes: the same fields and wire types, each value given as its float64 bits. */
const bitsType = writeRequestType('fixed64');
const upstreamType = writeRequestType('double');

/** STALE_NAN_BITS are the high and low words of Prometheus' stale marker (value.StaleNaN). */
const STALE_NAN_BITS = { low: 0x00000002, high: 0x7ff00000 } as const;

/** WriteSample is one sample to send; `isStale` sends Prometheus' stale marker instead of `v`. */
export interface WriteSample {
  readonly t: number;
  readonly v: number;
  readonly isStale: boolean;
}

/** WriteSeries is one series of a request: its full label set (sorted on encoding) and samples. */
export interface WriteSeries {
  readonly labels: Labels;
  readonly samples: readonly WriteSample[];
}

const scratch = new DataView(new ArrayBuffer(8));

function bitsOf(s: WriteSample): { low: number; high: number } {
  if (s.isStale) return STALE_NAN_BITS;
  scratch.setFloat64(0, s.v, true);
  return { low: scratch.getUint32(0, true), high: scratch.getUint32(4, true) };
}

/**
 * encodeWriteRequest encodes `series` as one uncompressed WriteRequest. Labels go out sorted by
 * name, as the protocol requires. Encoded requests concatenate into one request (protobuf merges
 * repeated fields), which is how the queue joins batches into a send.
 */
export function encodeWriteRequest(series: readonly WriteSeries[]): Uint8Array {
  const timeseries = series.map((s) => ({
    // An empty label value is no label (Prometheus' labels semantics), as in the store's keys.
    labels: Object.keys(s.labels)
      .filter((name) => s.labels[name] !== '')
      .sort()
      .map((name) => ({ name, value: s.labels[name] })),
    samples: s.samples.map((x) => ({ value: bitsOf(x), timestamp: x.t })),
  }));
  return bitsType.encode({ timeseries }).finish();
}

/** DecodedSeries is one series of a decoded WriteRequest; a stale marker reads as `isStale`. */
export interface DecodedSeries {
  readonly labels: Array<{ readonly name: string; readonly value: string }>;
  readonly samples: WriteSample[];
}

/**
 * decodeWriteRequest reads an uncompressed WriteRequest as a receiver does (value as double);
 * the stale marker is recognised by its bits on the wire.
 */
export function decodeWriteRequest(bytes: Uint8Array): DecodedSeries[] {
  const decoded = upstreamType.toObject(upstreamType.decode(bytes), { longs: Number, defaults: true }) as {
    timeseries: Array<{ labels: Array<{ name: string; value: string }>; samples: Array<{ value: number; timestamp: number }> }>;
  };
  // Stale markers cannot be told apart from other NaNs after decoding: read their bits.
  const staleAt = staleSamples(bytes);
  return decoded.timeseries.map((ts, i) => ({
    labels: ts.labels,
    samples: ts.samples.map((s, j) => ({ t: s.timestamp, v: s.value, isStale: staleAt.get(i)?.has(j) === true })),
  }));
}

/** staleSamples finds, per series index, the sample indexes whose value bits are the stale marker. */
function staleSamples(bytes: Uint8Array): Map<number, Set<number>> {
  const raw = bitsType.toObject(bitsType.decode(bytes), { longs: String, defaults: true }) as { timeseries: Array<{ samples: Array<{ value: string }> }> };
  const stale = (BigInt(STALE_NAN_BITS.high) << 32n) | BigInt(STALE_NAN_BITS.low);
  const out = new Map<number, Set<number>>();
  raw.timeseries.forEach((ts, i) =>
    ts.samples.forEach((s, j) => {
      if (BigInt(s.value) === stale) {
        const set = out.get(i) ?? new Set<number>();
        set.add(j);
        out.set(i, set);
      }
    }),
  );
  return out;
}
