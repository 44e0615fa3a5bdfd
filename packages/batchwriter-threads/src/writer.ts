// The BatchWriter: the app-facing object on the main thread. It encodes documents into
// the shared ring, lets the batch cutter group them, hands batches to the Piscina pool as
// byte ranges, releases ring space in order as results come back, and sends failed
// documents to the dead-letter sink.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { BroadcastChannel } from 'node:worker_threads';
import { BSON, type Document } from 'mongodb';
import { Piscina } from 'piscina';
import { BatchCutter, type Batch } from './batchCutter.js';
import { assertDocument, checkFitsQueue, encodeInto, ensureId, inspectRaw, measure, spliceId, splicedLength } from './bsonEncoding.js';
import { DeadLetterSink, type DeadLetter } from './deadLetterSink.js';
import { BatchWriterError } from './errors.js';
import { resolveOptions, type BatchWriterOptions, type ResolvedOptions } from './options.js';
import type { ControlMessage, DocumentFailure, InsertResult, InsertTask, PingResult, WorkerConfig } from './protocol.js';
import { redactText } from './redact.js';
import { Ring, type Placement } from './ring.js';
import { addSlot, allocateShared, readSlot, Slot, State, storeSlot, type SharedViews } from './sharedLayout.js';

/** After this many worker deaths on one batch, its documents go to dead letter. */
export const MAX_WORKER_DEATHS_PER_BATCH = 3;
const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** How long close() waits past its deadline for workers to report aborted attempts. */
const DEADLINE_GRACE_MS = 500;

export interface WriteOptions {
  /** Aborting it while the write waits for ring space rejects it with ERR_ABORTED. */
  signal?: AbortSignal;
}

export interface Health {
  queueDepthDocs: number;
  queueBytes: number;
  queueCapacityBytes: number;
  queueUtilPct: number;
  workers: number;
  workersAlive: number;
  inflightBatches: number;
  isShuttingDown: boolean;
  isClosed: boolean;
  lastError: { code: string; message: string; at: string } | undefined;
}

export interface Stats {
  accepted: number;
  inserted: number;
  duplicates: number;
  retries: number;
  deadLettered: number;
  batches: number;
  bytesSent: number;
  rejectedFull: number;
  workerRestarts: number;
}

export interface CloseSummary extends Stats {
  /** True when close() had to abort attempts at its deadline. */
  timedOut: boolean;
  /** Dead-letter files written during the writer's life. */
  deadLetterFiles: string[];
}

/** Emitted as 'batch' when a batch is settled: for metrics, and for checking the cutter. */
export interface BatchEvent {
  batchId: number;
  docs: number;
  bytes: number;
  inserted: number;
  duplicates: number;
  deadLettered: number;
}

export interface DeadLetterEvent extends DeadLetter {
  db: string;
  collection: string;
}

interface Waiter {
  /** Tries to enqueue; true when done (the waiter then leaves the queue). */
  attempt(): boolean;
  reject(err: Error): void;
}

interface Tracked {
  batch: Batch;
  done: boolean;
  deaths: number;
}

const workerFile = new URL('./worker.js', import.meta.url).href;

export class BatchWriter<TDoc extends Document = Document> extends EventEmitter {
  private readonly options: ResolvedOptions;
  private readonly shared: SharedViews;
  private readonly ring: Ring;
  private readonly cutter: BatchCutter;
  private readonly pool: Piscina;
  private readonly channel: BroadcastChannel;
  private readonly sink: DeadLetterSink | undefined;
  private readonly maxInflight: number;
  /** Batches handed out or waiting, in ring order; released from the front. */
  private readonly outstanding: Tracked[] = [];
  private readonly waiters: Waiter[] = [];
  private flushWaiters: { target: number; resolve: () => void }[] = [];
  private delayTimer: NodeJS.Timeout | undefined;
  private inflight = 0;
  private lastError: Health['lastError'];
  private closing: Promise<CloseSummary> | undefined;
  private deadlinePassed = false;
  private poolDestroyed = false;
  private stoppingPool = false;

  private constructor(options: ResolvedOptions, shared: SharedViews, pool: Piscina, channel: BroadcastChannel) {
    super();
    this.options = options;
    this.shared = shared;
    this.pool = pool;
    this.channel = channel;
    this.ring = new Ring(options.queueBytes);
    this.cutter = new BatchCutter(options);
    this.maxInflight = options.workers * options.inflightPerWorker;
    this.sink = options.deadLetter
      ? new DeadLetterSink(options.deadLetter, { db: options.db, collection: options.collection }, (err) => this.sinkFailed(err))
      : undefined;
    pool.on('error', (err: Error) => this.noteError('ERR_WORKER', err.message));
    // One count per thread that died (a death can take several in-flight batches with it);
    // the threads we stop ourselves when closing are not restarts.
    pool.on('workerDestroy', () => {
      if (!this.stoppingPool) addSlot(this.shared.slots, Slot.WORKER_RESTARTS, 1);
    });
  }

  /**
   * Starts the worker pool and checks, from a worker, that the server answers. Throws
   * ERR_INVALID_OPTION for a bad option and ERR_CONNECT when the server cannot be reached
   * within attemptTimeoutMs.
   */
  static async create<T extends Document = Document>(input: BatchWriterOptions): Promise<BatchWriter<T>> {
    const options = resolveOptions(input);
    const shared = allocateShared(options.queueBytes);
    const channelName = `batchwriter-threads:${randomUUID()}`;
    const config: WorkerConfig = {
      sab: shared.sab,
      channel: channelName,
      uri: options.uri,
      db: options.db,
      collection: options.collection,
      clientOptions: options.clientOptions,
      writeConcern: options.writeConcern,
      retries: options.retries,
      retryBackoffMinMs: options.retryBackoffMinMs,
      retryBackoffMaxMs: options.retryBackoffMaxMs,
      attemptTimeoutMs: options.attemptTimeoutMs,
    };
    const pool = new Piscina({
      filename: workerFile,
      workerData: config,
      minThreads: options.workers,
      maxThreads: options.workers,
      concurrentTasksPerWorker: options.inflightPerWorker,
      // Idle workers must keep their MongoClient's timers and heartbeats running.
      atomics: 'disabled',
      idleTimeout: Number.MAX_SAFE_INTEGER,
    });
    const channel = new BroadcastChannel(channelName);
    channel.unref();

    const ping = (await pool.run({ kind: 'ping' }).catch((err: Error) => ({ ok: false, message: err.message }))) as PingResult;
    if (!ping.ok) {
      channel.close();
      await pool.destroy();
      throw new BatchWriterError(
        'ERR_CONNECT',
        `cannot reach MongoDB at ${redactText(options.uri, options.uri)} within attemptTimeoutMs (${options.attemptTimeoutMs} ms): ${redactText(ping.message ?? 'no answer', options.uri)}; check the URI, the credentials and that the server is up`,
        { attemptTimeoutMs: options.attemptTimeoutMs },
      );
    }
    // Never cut a batch the server could not take in one message.
    if (ping.maxMessageSizeBytes) options.maxBatchBytes = Math.min(options.maxBatchBytes, ping.maxMessageSizeBytes - 64 * 1024);
    if (ping.maxWriteBatchSize) options.maxBatchDocs = Math.min(options.maxBatchDocs, ping.maxWriteBatchSize);

    const writer = new BatchWriter<T>(options, shared, pool, channel);
    if (options.signal) {
      if (options.signal.aborted) void writer.close();
      else options.signal.addEventListener('abort', () => void writer.close(), { once: true });
    }
    options.logger.debug?.({ workers: options.workers, queueBytes: options.queueBytes }, 'batchwriter-threads started');
    return writer;
  }

  // ---- writing -------------------------------------------------------------------------

  /** Enqueues `doc` if the ring has room; never waits. False when full. */
  tryWrite(doc: TDoc): boolean {
    this.assertOpen();
    assertDocument(doc);
    ensureId(doc);
    if (this.enqueueDoc(doc)) return true;
    addSlot(this.shared.slots, Slot.REJECTED_FULL, 1);
    return false;
  }

  /** Enqueues `doc`, waiting for ring space when full. */
  write(doc: TDoc, options: WriteOptions = {}): Promise<void> {
    try {
      this.assertOpen();
      assertDocument(doc);
      ensureId(doc);
      if (this.waiters.length === 0 && this.enqueueDoc(doc)) return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.waitFor(() => this.enqueueDoc(doc), options.signal);
  }

  /** Enqueues each document in order, waiting for space as needed. A bad document throws with its index; those before it stay accepted. */
  async writeMany(docs: Iterable<TDoc>, options: WriteOptions = {}): Promise<void> {
    let index = 0;
    for (const doc of docs) {
      try {
        this.assertOpen();
        assertDocument(doc);
        ensureId(doc);
        if (this.waiters.length > 0 || !this.enqueueDoc(doc)) await this.waitFor(() => this.enqueueDoc(doc), options.signal);
      } catch (err) {
        if (err instanceof BatchWriterError) (err.details as Record<string, unknown>).index = index;
        throw err;
      }
      index++;
    }
  }

  /** Enqueues pre-encoded BSON (copied as is, `_id` added if missing) if there is room. */
  tryWriteRaw(bytes: Uint8Array): boolean {
    this.assertOpen();
    const hasId = this.checkRaw(bytes);
    if (this.enqueueRaw(bytes, hasId)) return true;
    addSlot(this.shared.slots, Slot.REJECTED_FULL, 1);
    return false;
  }

  /** Enqueues pre-encoded BSON, waiting for ring space when full. */
  writeRaw(bytes: Uint8Array, options: WriteOptions = {}): Promise<void> {
    let hasId: boolean;
    try {
      this.assertOpen();
      hasId = this.checkRaw(bytes);
      if (this.waiters.length === 0 && this.enqueueRaw(bytes, hasId)) return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.waitFor(() => this.enqueueRaw(bytes, hasId), options.signal);
  }

  private checkRaw(bytes: Uint8Array): boolean {
    const { hasId } = inspectRaw(bytes);
    checkFitsQueue(hasId ? bytes.length : splicedLength(bytes), this.ring.capacity);
    return hasId;
  }

  /** Encodes straight into the ring; false when there is no room now. */
  private enqueueDoc(doc: Record<string, unknown>): boolean {
    const { bytes } = this.shared;
    const free = this.ring.contiguousFree();
    let length = free.length >= 5 ? encodeInto(doc, bytes, free.offset, free.offset + free.length, this.ring.capacity) : -1;
    let placement: Placement | undefined;
    if (length >= 0) {
      placement = this.ring.place(length);
    } else {
      // Did not fit where the free space starts: measure, then try after the wrap point.
      const size = measure(doc, this.ring.capacity);
      placement = this.ring.place(size);
      if (!placement) return false;
      length = encodeInto(doc, bytes, placement.offset, placement.offset + size, this.ring.capacity);
    }
    this.accepted(placement!, length);
    return true;
  }

  private enqueueRaw(raw: Uint8Array, hasId: boolean): boolean {
    const length = hasId ? raw.length : splicedLength(raw);
    const placement = this.ring.place(length);
    if (!placement) return false;
    if (hasId) this.shared.bytes.set(raw, placement.offset);
    else spliceId(raw, this.shared.bytes, placement.offset);
    this.accepted(placement, length);
    return true;
  }

  private accepted(placement: Placement, length: number): void {
    this.ring.commit(placement, length);
    const { slots } = this.shared;
    addSlot(slots, Slot.ACCEPTED, 1);
    storeSlot(slots, Slot.RING_HEAD, this.ring.head);
    // The clock on every record, not only when this call sees no open batch: add() may seal
    // the open batch (byte limit, wrap) and open the next one with this record.
    const open = this.cutter.open;
    this.cutter.add(placement.vstart, placement.offset, placement.waste, length, performance.now());
    if (this.cutter.sealed.length > 0) this.dispatch();
    // Arm the delay timer for a batch this record opened, not on every record: a due batch
    // waiting for a free slot is dispatched by the next completion, not by a timer per write.
    if (this.cutter.open && this.cutter.open !== open && !this.delayTimer) this.armDelayTimer();
  }

  private waitFor(attempt: () => boolean, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortedError());
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortedError());
      };
      const waiter: Waiter = {
        attempt: () => {
          if (!attempt()) return false;
          signal?.removeEventListener('abort', onAbort);
          resolve();
          return true;
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      // Whatever is queued must get moving, or the space we wait for never frees.
      this.dispatch(true);
    });
  }

  /** Lets waiting writers in, oldest first, while there is room. */
  private wakeWaiters(): void {
    while (this.waiters.length > 0) {
      const waiter = this.waiters[0]!;
      let done: boolean;
      try {
        done = waiter.attempt();
      } catch (err) {
        this.waiters.shift();
        waiter.reject(err as Error);
        continue;
      }
      if (!done) break;
      this.waiters.shift();
    }
  }

  // ---- batching and dispatch -----------------------------------------------------------

  private armDelayTimer(): void {
    const ms = this.cutter.msUntilDue(performance.now());
    if (ms === undefined) return;
    this.delayTimer = setTimeout(() => {
      this.delayTimer = undefined;
      this.dispatch();
      // Still open and not yet due: a newer batch. Due but no free slot: a completion dispatches it.
      if (!this.delayTimer && (this.cutter.msUntilDue(performance.now()) ?? 0) > 0) this.armDelayTimer();
    }, ms);
    // An idle writer never keeps the process alive.
    this.delayTimer.unref();
  }

  /** Hands batches to the pool while in-flight slots are free. `force` cuts the open batch now. */
  private dispatch(force = false): void {
    const urgent = force || this.flushWaiters.length > 0 || this.waiters.length > 0 || this.closing !== undefined;
    while (this.inflight < this.maxInflight) {
      const batch = this.cutter.take(performance.now(), urgent);
      if (!batch) break;
      const tracked: Tracked = { batch, done: false, deaths: 0 };
      this.outstanding.push(tracked);
      if (this.deadlinePassed) {
        void this.settle(tracked, this.unsentResult(batch, 'shutdown', 'close() deadline passed before this batch was sent'));
        continue;
      }
      this.send(tracked);
    }
  }

  private send(tracked: Tracked): void {
    const { batch } = tracked;
    const task: InsertTask = { kind: 'insert', batchId: batch.id, start: batch.start, end: batch.end, count: batch.count };
    this.inflight++;
    storeSlot(this.shared.slots, Slot.INFLIGHT_BATCHES, this.inflight);
    // No abort signal per task: Piscina runs one abortable task per worker at a time, which
    // would make inflightPerWorker meaningless. A worker that misses the close deadline is
    // stopped with the whole pool instead (see shutdown()).
    this.pool.run(task).then(
      (result: InsertResult) => {
        this.inflight--;
        void this.settle(tracked, result);
      },
      (err: Error) => {
        this.inflight--;
        this.workerDied(tracked, err);
      },
    );
  }

  /** A worker died (or was terminated) mid-batch: the bytes are still in the ring, so resend. */
  private workerDied(tracked: Tracked, err: Error): void {
    tracked.deaths++;
    this.noteError('ERR_WORKER_DIED', err.message);
    this.options.logger.warn?.({ batchId: tracked.batch.id, deaths: tracked.deaths, err: redactText(err.message, this.options.uri) }, 'worker died during a batch');
    if (this.deadlinePassed) {
      void this.settle(tracked, this.unsentResult(tracked.batch, 'shutdown', 'close() deadline passed while the batch was in flight'));
    } else if (tracked.deaths >= MAX_WORKER_DEATHS_PER_BATCH) {
      void this.settle(tracked, this.unsentResult(tracked.batch, 'worker_crashed', `worker died ${tracked.deaths} times on this batch: ${err.message}`));
    } else {
      this.send(tracked);
    }
  }

  private unsentResult(batch: Batch, reason: DocumentFailure['reason'], message: string): InsertResult {
    const failures: DocumentFailure[] = [];
    for (let index = 0; index < batch.count; index++) failures.push({ index, reason, code: reason, labels: [], message, attempts: 0 });
    return { inserted: 0, duplicates: 0, failures };
  }

  /** Records a batch's outcome, writes its dead letters, then releases ring space in order. */
  private async settle(tracked: Tracked, result: InsertResult): Promise<void> {
    const { slots } = this.shared;
    if (result.failures.length > 0) {
      const letters = this.lettersFor(tracked.batch, result.failures);
      addSlot(slots, Slot.DEAD_LETTERED, letters.length);
      const last = result.failures[result.failures.length - 1]!;
      this.noteError(last.code, last.message);
      for (const letter of letters) this.emit('deadLetter', { ...letter, db: this.options.db, collection: this.options.collection } satisfies DeadLetterEvent);
      // The bytes stay reserved until the record is on disk (or its failure reported).
      if (this.sink) await this.sink.write(letters);
    }
    addSlot(slots, Slot.INSERTED, result.inserted);
    addSlot(slots, Slot.DUPLICATES, result.duplicates);
    addSlot(slots, Slot.BATCHES, 1);
    tracked.done = true;
    const { batch } = tracked;
    this.emit('batch', {
      batchId: batch.id,
      docs: batch.count,
      bytes: batch.end - batch.start,
      inserted: result.inserted,
      duplicates: result.duplicates,
      deadLettered: result.failures.length,
    } satisfies BatchEvent);
    this.releaseInOrder();
  }

  private lettersFor(batch: Batch, failures: DocumentFailure[]): DeadLetter[] {
    const { bytes } = this.shared;
    const byIndex = new Map(failures.map((f) => [f.index, f]));
    const letters: DeadLetter[] = [];
    let offset = batch.start;
    for (let index = 0; index < batch.count; index++) {
      const size = bytes.readInt32LE(offset);
      const failure = byIndex.get(index);
      if (failure) {
        const letter: DeadLetter = { reason: failure.reason, code: failure.code, message: failure.message, attempts: failure.attempts };
        const record = bytes.subarray(offset, offset + size);
        try {
          letter.doc = BSON.deserialize(record, { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true });
        } catch {
          letter.raw = Buffer.from(record).toString('base64');
        }
        letters.push(letter);
      }
      offset += size;
    }
    return letters;
  }

  private releaseInOrder(): void {
    let released = false;
    while (this.outstanding.length > 0 && this.outstanding[0]!.done) {
      const { batch } = this.outstanding.shift()!;
      this.ring.release(batch.vend);
      released = true;
    }
    if (!released) return;
    storeSlot(this.shared.slots, Slot.RING_TAIL, this.ring.tail);
    storeSlot(this.shared.slots, Slot.INFLIGHT_BATCHES, this.inflight);
    this.wakeWaiters();
    this.resolveFlushes();
    this.dispatch();
    if (this.cutter.open && !this.delayTimer) this.armDelayTimer();
    if (this.ring.used === 0 && this.waiters.length === 0) this.emit('drain');
  }

  private resolveFlushes(): void {
    if (this.flushWaiters.length === 0) return;
    const tail = this.ring.tail;
    const empty = this.ring.used === 0;
    const still: typeof this.flushWaiters = [];
    for (const w of this.flushWaiters) {
      if (empty || tail >= w.target) w.resolve();
      else still.push(w);
    }
    this.flushWaiters = still;
  }

  // ---- flush, close --------------------------------------------------------------------

  /** Resolves when every document accepted before the call is settled (inserted, duplicate or dead-lettered). */
  flush(): Promise<void> {
    if (this.ring.used === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.flushWaiters.push({ target: this.ring.head, resolve });
      this.dispatch(true);
    });
  }

  /**
   * Stops accepting, drains everything accepted, closes the workers' clients and the pool.
   * Past `timeoutMs`, in-flight attempts are aborted and everything not inserted goes to
   * dead letter with reason `shutdown`. Idempotent: later calls get the same summary.
   */
  close(options: { timeoutMs?: number } = {}): Promise<CloseSummary> {
    this.closing ??= this.shutdown(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async shutdown(timeoutMs: number): Promise<CloseSummary> {
    const { slots } = this.shared;
    storeSlot(slots, Slot.STATE, State.SHUTTING_DOWN);
    for (const waiter of this.waiters.splice(0)) waiter.reject(closedError());
    if (this.delayTimer) clearTimeout(this.delayTimer);
    this.delayTimer = undefined;

    let timedOut = false;
    const drained = this.flush();
    const deadline = new Promise<'deadline'>((resolve) => setTimeout(() => resolve('deadline'), timeoutMs).unref());
    if ((await Promise.race([drained, deadline])) === 'deadline') {
      timedOut = true;
      this.passDeadline();
      const grace = new Promise<void>((resolve) => setTimeout(resolve, DEADLINE_GRACE_MS).unref());
      await Promise.race([drained, grace]);
      // Workers that did not answer in time: stop the pool; their batches are then reported
      // (through workerDied) as shutdown.
      if (this.inflight > 0) {
        this.poolDestroyed = true;
        this.stoppingPool = true;
        await this.pool.destroy();
        await Promise.race([drained, new Promise<void>((resolve) => setTimeout(resolve, DEADLINE_GRACE_MS).unref())]);
      }
    }

    await this.closeWorkers();
    await this.sink?.close();
    storeSlot(slots, Slot.STATE, State.CLOSED);
    this.channel.close();
    const summary: CloseSummary = { ...this.stats(), timedOut, deadLetterFiles: this.sink ? [...this.sink.files] : [] };
    this.options.logger.info?.(summary, 'batchwriter-threads closed');
    return summary;
  }

  private passDeadline(): void {
    this.deadlinePassed = true;
    storeSlot(this.shared.slots, Slot.DEADLINE_PASSED, 1);
    this.post({ type: 'deadline' });
    // Batches not yet handed out are settled as shutdown without a worker.
    this.cutter.seal();
    while (this.cutter.sealed.length > 0) {
      const batch = this.cutter.sealed.shift()!;
      const tracked: Tracked = { batch, done: false, deaths: 0 };
      this.outstanding.push(tracked);
      void this.settle(tracked, this.unsentResult(batch, 'shutdown', 'close() deadline passed before this batch was sent'));
    }
  }

  private async closeWorkers(): Promise<void> {
    const { slots } = this.shared;
    if (this.poolDestroyed) return; // stopped at the deadline already
    const threads = this.pool.threads.length;
    this.post({ type: 'close' });
    const until = Date.now() + 1000;
    while (readSlot(slots, Slot.CLIENTS_CLOSED) < threads && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.stoppingPool = true;
    await this.pool.destroy();
  }

  private post(message: ControlMessage): void {
    this.channel.postMessage(message);
  }

  // ---- observing -----------------------------------------------------------------------

  /** A lock-free snapshot of the queue, the workers and the last error. */
  health(): Health {
    const { slots } = this.shared;
    const s = this.stats();
    const queueBytes = readSlot(slots, Slot.RING_HEAD) - readSlot(slots, Slot.RING_TAIL);
    const state = readSlot(slots, Slot.STATE);
    return {
      queueDepthDocs: s.accepted - s.inserted - s.duplicates - s.deadLettered,
      queueBytes,
      queueCapacityBytes: this.ring.capacity,
      queueUtilPct: Math.round((queueBytes / this.ring.capacity) * 10_000) / 100,
      workers: this.options.workers,
      workersAlive: this.pool.threads.length,
      inflightBatches: readSlot(slots, Slot.INFLIGHT_BATCHES),
      isShuttingDown: state === State.SHUTTING_DOWN,
      isClosed: state === State.CLOSED,
      lastError: this.lastError,
    };
  }

  /** Monotonic counters, read with Atomics. */
  stats(): Stats {
    const { slots } = this.shared;
    return {
      accepted: readSlot(slots, Slot.ACCEPTED),
      inserted: readSlot(slots, Slot.INSERTED),
      duplicates: readSlot(slots, Slot.DUPLICATES),
      retries: readSlot(slots, Slot.RETRIES),
      deadLettered: readSlot(slots, Slot.DEAD_LETTERED),
      batches: readSlot(slots, Slot.BATCHES),
      bytesSent: readSlot(slots, Slot.BYTES_SENT),
      rejectedFull: readSlot(slots, Slot.REJECTED_FULL),
      workerRestarts: readSlot(slots, Slot.WORKER_RESTARTS),
    };
  }

  private assertOpen(): void {
    if (this.closing) throw closedError();
  }

  private noteError(code: string, message: string): void {
    this.lastError = { code, message: redactText(message, this.options.uri), at: new Date().toISOString() };
  }

  private sinkFailed(err: Error): void {
    const error = new BatchWriterError('ERR_DEAD_LETTER_WRITE', `could not write the dead-letter file in ${this.options.deadLetter ? this.options.deadLetter.dir : '?'}: ${err.message}; check the directory's permissions and free space`, {}, { cause: err });
    addSlot(this.shared.slots, Slot.DEAD_LETTER_WRITE_FAILURES, 1);
    this.noteError(error.code, error.message);
    // An 'error' event without a listener would crash the app: report only when someone listens.
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.options.logger.error?.({ err: redactText(error.message, this.options.uri) }, 'dead-letter write failed');
  }
}

function closedError(): BatchWriterError {
  return new BatchWriterError('ERR_CLOSED', 'the writer is closed (or closing); create a new BatchWriter to write more');
}

function abortedError(): BatchWriterError {
  return new BatchWriterError('ERR_ABORTED', 'the write was aborted while waiting for queue space; the document was not enqueued');
}
