/**
 * The query thread's entry point (see query-worker.ts): a PromQL engine over a StoreReplica of
 * the daemon's sample store. It answers one message at a time; its event loop may block for as
 * long as a query runs, the daemon's does not.
 */
import { readlinkSync } from 'node:fs';
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import { isSentinelError } from '../errors.js';
import { apiQueryResponse, createEngine } from '../promql/index.js';
import type { Engine, EngineOptions, QueryResult } from '../promql/index.js';
import { StoreReplica } from '../store/store-replica.js';
import type { ReplicaEvent } from '../store/store-replica.js';

/** ToQueryThread is a message to the thread: index changes, or a query (with the changes before it). */
export type ToQueryThread =
  | { readonly type: 'replica'; readonly events: readonly ReplicaEvent[] }
  | {
      readonly type: 'query';
      readonly id: number;
      /** engine are the engine options of this query (the configuration's at the time it was asked). */
      readonly engine: EngineOptions;
      readonly events: readonly ReplicaEvent[];
      /** extents are the store's `extents()` when the query was asked. */
      readonly extents: Int32Array;
      /** cancel is an Int32Array(1) flag, set to 1 by the daemon when the query is to stop. */
      readonly cancel: SharedArrayBuffer;
      readonly expr: string;
      readonly kind: 'instant' | 'range';
      readonly startMs: number;
      readonly endMs: number;
      readonly stepMs: number;
    };

/** FromQueryThread is an answer: the API's response body, or the error with its code. */
export type FromQueryThread =
  | { readonly type: 'answer'; readonly id: number; readonly ok: true; readonly json: string }
  | {
      readonly type: 'answer';
      readonly id: number;
      readonly ok: false;
      readonly error: { readonly code: string | undefined; readonly message: string; readonly pos?: { readonly start: number; readonly end: number } };
    };

function describeError(err: unknown): Extract<FromQueryThread, { ok: false }>['error'] {
  if (!isSentinelError(err)) return { code: undefined, message: err instanceof Error ? err.message : String(err) };
  const pos = (err as { pos?: { start: number; end: number } }).pos;
  return pos !== undefined ? { code: err.code, message: err.message, pos: { start: pos.start, end: pos.end } } : { code: err.code, message: err.message };
}

/**
 * QUERY_THREAD_NICE is the thread's scheduling niceness: on a busy machine the daemon's own
 * thread (probes, rule groups, pings) gets the CPU first and queries take what is left.
 */
const QUERY_THREAD_NICE = 10;

/** lowerPriority renices this thread alone (Linux: setpriority on a thread id affects that thread); elsewhere nothing. */
function lowerPriority(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, Math.max(os.getPriority(tid), QUERY_THREAD_NICE));
  } catch {
    // No /proc (not Linux) or not permitted: the thread runs at the daemon's priority.
  }
}

const port = parentPort;
if (port !== null) {
  lowerPriority();
  // One engine per set of options (its regex cache is kept); a reload brings a new set.
  let engine: { key: string; engine: Engine } | undefined;
  const engineFor = (options: EngineOptions): Engine => {
    const key = JSON.stringify(options);
    if (engine?.key !== key) engine = { key, engine: createEngine(options) };
    return engine.engine;
  };
  const replica = new StoreReplica();
  port.on('message', (msg: ToQueryThread) => {
    replica.apply(msg.events);
    if (msg.type === 'replica') return;
    replica.setExtents(msg.extents);
    const flag = new Int32Array(msg.cancel);
    const signal = {
      get aborted(): boolean {
        return Atomics.load(flag, 0) !== 0;
      },
    };
    let answer: FromQueryThread;
    try {
      const engine = engineFor(msg.engine);
      const result: QueryResult =
        msg.kind === 'instant' ? engine.instantQuery(replica, msg.expr, msg.startMs, signal) : engine.rangeQuery(replica, msg.expr, msg.startMs, msg.endMs, msg.stepMs, signal);
      answer = { type: 'answer', id: msg.id, ok: true, json: apiQueryResponse(result) };
    } catch (err) {
      answer = { type: 'answer', id: msg.id, ok: false, error: describeError(err) };
    }
    port.postMessage(answer);
  });
}
