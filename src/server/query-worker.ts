/**
 * QueryWorker runs the HTTP API's PromQL queries in a worker thread, so a heavy query (a day of
 * samples over thousands of series) never holds up the daemon's event loop: probes start on
 * time, rule groups keep their slots, WebSocket pings go out. The thread reads the sample store
 * where it is (shared buffers, see StoreReplica); nothing is copied per query but the index of
 * which slots hold samples.
 *
 * Queries run one at a time, in order, at most `maxQueued` waiting. Each has the engine's
 * deadline and sample limit; an abort (the client went away) stops it at the engine's next
 * check. A query that overruns its deadline by more than a grace period, or exhausts the
 * thread's heap, costs the thread, not the daemon: it is terminated and started afresh for the
 * next query. The thread starts with the first query and stops after `idleMs` without one.
 */
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import type { Logger } from 'pino';
import { PromqlParseError, QueryCanceledError, QueryError, QueryTimeoutError } from '../errors.js';
import type { EngineOptions } from '../promql/index.js';
import { ReplicaEventQueue } from '../store/store-replica.js';
import type { ReplicaSource } from '../store/store-replica.js';
import type { FromQueryThread, ToQueryThread } from './query-thread.js';

/** ReplicableStore is what the worker needs of the sample store (a MemoryStore or SqliteStore with shared buffers). */
export interface ReplicableStore extends ReplicaSource {
  extents(): Int32Array;
}

/** QueryWorkerOptions configure the worker; durations in ms. */
export interface QueryWorkerOptions {
  readonly store: ReplicableStore;
  /**
   * engine are the engine's options (timeoutMs and maxSamples bound every query), or a function
   * read at each query (a reloaded configuration takes effect at the next one).
   */
  readonly engine: QueryEngineOptions | (() => QueryEngineOptions);
  /** maxHeapMb bounds the thread's heap (default 256); a query needing more fails alone. */
  readonly maxHeapMb?: number;
  /** idleMs stops the thread after this long without a query (default 60 s). */
  readonly idleMs?: number;
  /** maxQueued refuses queries beyond this many waiting (default 16). */
  readonly maxQueued?: number;
  readonly logger?: Logger;
}

/** QueryEngineOptions are the engine options of API queries; `timeoutMs` is required (the thread is terminated past it). */
export type QueryEngineOptions = EngineOptions & { readonly timeoutMs: number };

/** QueryAnswer is a successful answer: the API's whole response body, serialized. */
export interface QueryAnswer {
  readonly json: string;
}

/** GRACE_MS is how long past its deadline a query may take to notice it before its thread is terminated. */
const GRACE_MS = 5000;
/** FLUSH_MS is how often index changes are sent to an idle-but-running thread, so it lets go of moved buffers. */
const FLUSH_MS = 5000;
/** CHUNK_EVENTS bounds the index changes sent in one turn of the event loop (~20 ms of cloning). */
const CHUNK_EVENTS = 400;

interface Job {
  readonly id: number;
  readonly message: Omit<Extract<ToQueryThread, { type: 'query' }>, 'engine' | 'events' | 'extents' | 'id'>;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (answer: QueryAnswer) => void;
  readonly reject: (err: Error) => void;
  onAbort?: () => void;
}

/** Thread is one running worker thread and its replication. */
interface Thread {
  readonly worker: Worker;
  readonly queue: ReplicaEventQueue;
  readonly unsubscribe: () => void;
  readonly flush: NodeJS.Timeout;
}

/** QueryWorker is a daemon component (start, stop, isReady) that answers API queries off the event loop. */
export class QueryWorker {
  readonly name = 'query-worker';
  private readonly opts: Required<Omit<QueryWorkerOptions, 'logger'>>;
  private readonly logger: Logger;
  private thread: Thread | undefined;
  private readonly waiting: Job[] = [];
  private running: { job: Job; cancel: Int32Array; deadline: NodeJS.Timeout } | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private stopped = false;
  /** pumping: index changes are on their way to the thread ahead of the next query. */
  private pumping = false;

  constructor(options: QueryWorkerOptions) {
    this.opts = { maxHeapMb: 256, idleMs: 60_000, maxQueued: 16, ...options };
    this.logger = options.logger ?? pino({ level: 'silent' });
  }

  async start(): Promise<void> {
    this.stopped = false;
  }

  isReady(): boolean {
    return !this.stopped;
  }

  /** isRunning tells whether the thread is up (it starts with the first query). */
  get isRunning(): boolean {
    return this.thread !== undefined;
  }

  /** isQuerying tells whether a query is running in the thread now. */
  get isQuerying(): boolean {
    return this.running !== undefined;
  }

  /** stop fails what waits and runs and terminates the thread. */
  async stop(_deadlineMs: number): Promise<void> {
    this.stopped = true;
    for (const job of this.waiting.splice(0)) this.settle(job, new QueryCanceledError('query canceled: the daemon is stopping'));
    if (this.running) this.finishRunning(new QueryCanceledError('query canceled: the daemon is stopping'));
    await this.stopThread();
  }

  instantQuery(expr: string, tMs: number, signal?: AbortSignal): Promise<QueryAnswer> {
    return this.enqueue({ type: 'query', kind: 'instant', expr, startMs: tMs, endMs: tMs, stepMs: 0, cancel: new SharedArrayBuffer(4) }, signal);
  }

  rangeQuery(expr: string, startMs: number, endMs: number, stepMs: number, signal?: AbortSignal): Promise<QueryAnswer> {
    return this.enqueue({ type: 'query', kind: 'range', expr, startMs, endMs, stepMs, cancel: new SharedArrayBuffer(4) }, signal);
  }

  private enqueue(message: Job['message'], signal: AbortSignal | undefined): Promise<QueryAnswer> {
    if (this.stopped) return Promise.reject(new QueryCanceledError('query canceled: the daemon is stopping'));
    if (signal?.aborted === true) return Promise.reject(new QueryCanceledError());
    if (this.waiting.length >= this.opts.maxQueued) {
      return Promise.reject(new QueryError(`too many queries waiting (${this.opts.maxQueued}); retry when the running ones are done`));
    }
    return new Promise<QueryAnswer>((resolve, reject) => {
      const job: Job = { id: this.nextId++, message, signal, resolve, reject };
      if (signal) {
        job.onAbort = () => this.abort(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.waiting.push(job);
      this.pump();
    });
  }

  /** abort stops a job: taken out of the queue, or told to stop through its flag. */
  private abort(job: Job): void {
    const i = this.waiting.indexOf(job);
    if (i >= 0) {
      this.waiting.splice(i, 1);
      this.settle(job, new QueryCanceledError());
    } else if (this.running?.job === job) {
      Atomics.store(this.running.cancel, 0, 1);
    }
  }

  /**
   * pump starts the next waiting query: the index changes go first, a chunk per turn of the event
   * loop (sharing a buffer with a thread costs tens of microseconds, so a store of 50k series
   * that just started or grew at once would otherwise hold the loop for seconds); the query
   * follows with the last chunk and the extents of that moment.
   */
  private pump(): void {
    if (this.running !== undefined || this.pumping || this.stopped) return;
    if (this.waiting.length === 0) {
      this.armIdle();
      return;
    }
    clearTimeout(this.idleTimer);
    const thread = this.ensureThread();
    this.pumping = true;
    const step = (): void => {
      if (this.thread !== thread || this.stopped) {
        // The thread went away meanwhile: start again with a fresh one.
        this.pumping = false;
        this.pump();
        return;
      }
      const events = thread.queue.take(CHUNK_EVENTS);
      if (thread.queue.size > 0) {
        thread.worker.postMessage({ type: 'replica', events } satisfies ToQueryThread);
        setImmediate(step);
        return;
      }
      this.pumping = false;
      const job = this.waiting.shift();
      if (job === undefined) {
        if (events.length > 0) thread.worker.postMessage({ type: 'replica', events } satisfies ToQueryThread);
        this.armIdle();
        return;
      }
      const cancel = new Int32Array(job.message.cancel);
      const engine = typeof this.opts.engine === 'function' ? this.opts.engine() : this.opts.engine;
      const deadline = setTimeout(() => this.overran(job), engine.timeoutMs + GRACE_MS);
      this.running = { job, cancel, deadline };
      const message: ToQueryThread = { ...job.message, id: job.id, engine, events, extents: this.opts.store.extents() };
      thread.worker.postMessage(message);
    };
    step();
  }

  /** flushReplica sends what changed to a running thread, a chunk per turn, so it lets go of moved buffers. */
  private flushReplica(thread: Thread): void {
    if (this.pumping || this.thread !== thread || thread.queue.size === 0) return;
    thread.worker.postMessage({ type: 'replica', events: thread.queue.take(CHUNK_EVENTS) } satisfies ToQueryThread);
    if (thread.queue.size > 0) setImmediate(() => this.flushReplica(thread));
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    if (this.thread === undefined) return;
    this.idleTimer = setTimeout(() => {
      if (this.running === undefined && this.waiting.length === 0) void this.stopThread();
    }, this.opts.idleMs);
    this.idleTimer.unref();
  }

  private ensureThread(): Thread {
    if (this.thread !== undefined) return this.thread;
    const resourceLimits = { maxOldGenerationSizeMb: this.opts.maxHeapMb };
    const fromSource = import.meta.url.endsWith('.ts');
    const entry = new URL(fromSource ? './query-thread.ts' : './query-thread.js', import.meta.url);
    // From source (tests, `tsx src/cli.ts`), the thread registers the TypeScript loader first.
    const worker = fromSource
      ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`, {
          eval: true,
          resourceLimits,
        })
      : new Worker(entry, { resourceLimits });
    worker.unref();
    const queue = new ReplicaEventQueue(this.opts.store);
    const unsubscribe = this.opts.store.replicate(queue);
    const flush = setInterval(() => this.flushReplica(thread), FLUSH_MS);
    flush.unref();
    const thread: Thread = { worker, queue, unsubscribe, flush };
    worker.on('message', (msg: FromQueryThread) => this.answered(msg));
    worker.on('error', (err: Error & { code?: string }) => this.threadFailed(thread, err));
    worker.on('exit', (code) => this.threadFailed(thread, new Error(`query thread exited with code ${code}`)));
    this.thread = thread;
    this.logger.debug('query thread started');
    return thread;
  }

  private answered(msg: FromQueryThread): void {
    if (this.running === undefined || this.running.job.id !== msg.id) return;
    if (msg.ok) this.finishRunning(undefined, { json: msg.json });
    else this.finishRunning(rebuildError(msg.error));
  }

  private finishRunning(err: Error | undefined, answer?: QueryAnswer): void {
    const running = this.running;
    if (running === undefined) return;
    clearTimeout(running.deadline);
    this.running = undefined;
    if (err !== undefined) this.settle(running.job, err);
    else if (answer !== undefined) this.settle(running.job, undefined, answer);
    this.pump();
  }

  private settle(job: Job, err: Error | undefined, answer?: QueryAnswer): void {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    if (err !== undefined) job.reject(err);
    else if (answer !== undefined) job.resolve(answer);
  }

  /** overran: the running query did not stop at its deadline; its thread goes, the next query gets a new one. */
  private overran(job: Job): void {
    if (this.running?.job !== job) return;
    this.logger.warn({ expr: job.message.expr }, 'query overran its deadline without stopping; restarting the query thread');
    const thread = this.thread;
    this.thread = undefined;
    if (thread) this.dispose(thread);
    this.finishRunning(new QueryTimeoutError());
  }

  private threadFailed(thread: Thread, err: Error & { code?: string }): void {
    if (this.thread !== thread) return;
    this.thread = undefined;
    this.dispose(thread);
    if (this.stopped) return;
    const outOfMemory = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
    this.logger.warn({ err: err.message }, outOfMemory ? 'a query exhausted the query thread heap; the thread is restarted' : 'query thread failed; it is restarted for the next query');
    this.finishRunning(
      outOfMemory
        ? new QueryError(`query needs more memory than queries may use (${this.opts.maxHeapMb} MiB); narrow the selectors, shorten the range or raise the step`, { code: 'SENTINEL_TOO_MANY_SAMPLES' })
        : new QueryError(`query thread failed: ${err.message}`),
    );
  }

  private dispose(thread: Thread): void {
    thread.unsubscribe();
    clearInterval(thread.flush);
    thread.worker.removeAllListeners();
    void thread.worker.terminate();
  }

  private async stopThread(): Promise<void> {
    clearTimeout(this.idleTimer);
    const thread = this.thread;
    if (thread === undefined) return;
    this.thread = undefined;
    thread.unsubscribe();
    clearInterval(thread.flush);
    thread.worker.removeAllListeners();
    await thread.worker.terminate();
    this.logger.debug('query thread stopped');
  }
}

/** rebuildError turns the thread's error description back into the error the API maps to a status. */
function rebuildError(e: Extract<FromQueryThread, { ok: false }>['error']): Error {
  switch (e.code) {
    case 'SENTINEL_PROMQL_PARSE':
      return new PromqlParseError(e.message, e.pos ?? { start: 0, end: 0 });
    case 'SENTINEL_QUERY_TIMEOUT':
      return new QueryTimeoutError(e.message);
    case 'SENTINEL_QUERY_CANCELED':
      return new QueryCanceledError(e.message);
    case 'SENTINEL_TOO_MANY_SAMPLES':
      return new QueryError(e.message, { code: 'SENTINEL_TOO_MANY_SAMPLES' });
    case 'SENTINEL_QUERY':
      return new QueryError(e.message);
    default:
      return new Error(e.message);
  }
}
