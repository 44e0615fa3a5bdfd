// The approaches compared, behind one small interface, so each scenario drives them alike:
//
//   const sink = await open(approachId, settings);
//   const items = sink.prepare(docs);   // before measuring: the form this approach takes
//   await sink.write(item);             // accept one, waiting if the approach has backpressure
//   sink.tryWrite(item);                // accept one now, never wait; false = refused
//   await sink.flush();                 // everything accepted is acknowledged by the server
//   await sink.close();
//
// The baselines are what a user would write by hand: a batching loop on the main thread
// around the driver's insertMany, or around a Piscina pool. They hold queued documents as
// JS objects in arrays on the main heap and have no bound (a hand-rolled loop rarely has one).
import { BSON, MongoClient } from 'mongodb';
import { Piscina } from 'piscina';
import { BatchWriter } from '@scope/batchwriter-threads';

export const APPROACHES = {
  floor: 'floor: BSON.serialize only (no I/O)',
  'driver-1': 'driver insertMany, 1 batch in flight',
  'driver-N': 'driver insertMany, W×I batches in flight',
  piscina: 'Piscina pool, structured clone, W×I in flight',
  ours: 'ours: write() / tryWrite()',
  'ours-raw': 'ours: writeRaw() pre-encoded BSON',
};

/** The approach every ratio is taken against. */
export const REFERENCE = 'ours';

/**
 * @typedef {object} Settings
 * @property {string} uri
 * @property {string} db
 * @property {string} collection
 * @property {number} workers            ours and Piscina: threads; driver-N: W of W×I
 * @property {number} inflightPerWorker  I of W×I
 * @property {number} maxBatchDocs       ours: its option; baselines: batch size by count
 * @property {number} baselineBatchDocs  baselines: maxBatchDocs capped so a batch stays near maxBatchBytes
 * @property {number} maxBatchBytes
 * @property {number} maxDelayMs
 * @property {number} queueBytes
 */

/** @param {string} id @param {Settings} s */
export async function open(id, s) {
  switch (id) {
    case 'floor':
      return floor();
    case 'driver-1':
      return driverLoop(s, 1);
    case 'driver-N':
      return driverLoop(s, s.workers * s.inflightPerWorker);
    case 'piscina':
      return piscinaPool(s);
    case 'ours':
      return ours(s, false);
    case 'ours-raw':
      return ours(s, true);
    default:
      throw new Error(`unknown approach ${id}`);
  }
}

// ---- floor -------------------------------------------------------------------------------

function floor() {
  let bytes = 0;
  const accept = (doc) => {
    bytes += BSON.serialize(doc).length;
    return true;
  };
  return {
    prepare: (docs) => docs,
    write: accept,
    tryWrite: accept,
    flush: async () => {},
    close: async () => {},
    // Keeps `bytes` observable so the serialisation cannot be dropped as dead code.
    extra: () => ({ bytesEncoded: bytes }),
  };
}

// ---- the hand-rolled batching loop shared by the baselines --------------------------------

/**
 * Collects documents into arrays of `batchDocs` and hands full ones to `send`, keeping at
 * most `maxInflight` in flight; a partial batch goes out after `maxDelayMs` (or on flush).
 * Like our cutter, a batch waiting for a slot keeps filling up to `batchDocs`.
 */
class Batcher {
  constructor({ batchDocs, maxDelayMs, maxInflight, send }) {
    this.batchDocs = batchDocs;
    this.maxDelayMs = maxDelayMs;
    this.maxInflight = maxInflight;
    this.send = send;
    /** Full batches waiting for a slot, then the one being filled. */
    this.full = [];
    this.current = [];
    this.inflight = 0;
    this.timer = undefined;
    this.idle = [];
    this.error = undefined;
  }

  push(doc) {
    this.current.push(doc);
    if (this.current.length >= this.batchDocs) {
      this.full.push(this.current);
      this.current = [];
      this.pump(false);
    } else if (!this.timer && this.current.length === 1) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump(true);
      }, this.maxDelayMs);
    }
    return true;
  }

  /** Sends while slots are free; `partial` also sends the batch being filled. */
  pump(partial) {
    while (this.inflight < this.maxInflight) {
      let batch = this.full.shift();
      if (!batch && partial && this.current.length > 0) {
        batch = this.current;
        this.current = [];
      }
      if (!batch) break;
      this.inflight++;
      this.send(batch).then(
        () => this.done(),
        (err) => {
          this.error ??= err;
          this.done();
        },
      );
    }
  }

  done() {
    this.inflight--;
    // A completion frees a slot: send what waits, the partial batch too (it has waited).
    this.pump(true);
    if (this.inflight === 0 && this.full.length === 0 && this.current.length === 0) {
      for (const resolve of this.idle.splice(0)) resolve();
    }
  }

  flush() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pump(true);
    const settled = this.inflight === 0 && this.full.length === 0 && this.current.length === 0;
    const wait = settled ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
    return wait.then(() => {
      if (this.error) throw this.error;
    });
  }

  /** Documents held on the heap, not yet handed to the driver or the pool. */
  queued() {
    return this.full.length * this.batchDocs + this.current.length;
  }
}

// ---- driver on the main thread -----------------------------------------------------------

async function driverLoop(s, maxInflight) {
  const client = new MongoClient(s.uri);
  await client.connect();
  const col = client.db(s.db).collection(s.collection);
  const batcher = new Batcher({
    batchDocs: s.baselineBatchDocs,
    maxDelayMs: s.maxDelayMs,
    maxInflight,
    send: (docs) => col.insertMany(docs, { ordered: false }),
  });
  return {
    prepare: (docs) => docs,
    write: (doc) => batcher.push(doc),
    tryWrite: (doc) => batcher.push(doc),
    flush: () => batcher.flush(),
    close: () => client.close(true),
    extra: () => ({ queuedOnHeap: batcher.queued() }),
  };
}

// ---- Piscina pool, plain objects by structured clone --------------------------------------

async function piscinaPool(s) {
  const pool = new Piscina({
    filename: new URL('./piscina-worker.mjs', import.meta.url).href,
    workerData: { uri: s.uri, db: s.db, collection: s.collection },
    minThreads: s.workers,
    maxThreads: s.workers,
    concurrentTasksPerWorker: s.inflightPerWorker,
    // Same setting as ours: parked workers must keep their client's timers running.
    atomics: 'disabled',
    idleTimeout: Number.MAX_SAFE_INTEGER,
  });
  // One ping per in-flight slot reaches every worker: each opens its client now, not mid-run.
  await Promise.all(Array.from({ length: s.workers * s.inflightPerWorker }, () => pool.run('ping')));
  const batcher = new Batcher({
    batchDocs: s.baselineBatchDocs,
    maxDelayMs: s.maxDelayMs,
    maxInflight: s.workers * s.inflightPerWorker,
    send: (docs) => pool.run(docs),
  });
  return {
    prepare: (docs) => docs,
    write: (doc) => batcher.push(doc),
    tryWrite: (doc) => batcher.push(doc),
    flush: () => batcher.flush(),
    close: () => pool.destroy(),
    extra: () => ({ queuedOnHeap: batcher.queued() }),
  };
}

// ---- ours --------------------------------------------------------------------------------

async function ours(s, raw) {
  const writer = await BatchWriter.create({
    uri: s.uri,
    db: s.db,
    collection: s.collection,
    workers: s.workers,
    inflightPerWorker: s.inflightPerWorker,
    maxBatchDocs: s.maxBatchDocs,
    maxBatchBytes: s.maxBatchBytes,
    maxDelayMs: s.maxDelayMs,
    queueBytes: s.queueBytes,
  });
  // Surface anything the writer reports instead of letting it pass silently.
  let reported;
  writer.on('error', (err) => {
    reported ??= err;
  });
  return {
    // writeRaw: the app already holds BSON bytes (from a queue, a file, another service),
    // so encoding happens before the measurement, as it would happen elsewhere. No _id in
    // them: the writer splices one in, which is part of what it costs.
    prepare: (docs) => (raw ? docs.map((d) => BSON.serialize(d)) : docs),
    write: raw ? (bytes) => writer.writeRaw(bytes) : (doc) => writer.write(doc),
    tryWrite: raw ? (bytes) => writer.tryWriteRaw(bytes) : (doc) => writer.tryWrite(doc),
    flush: async () => {
      await writer.flush();
      if (reported) throw reported;
    },
    close: async () => {
      const summary = await writer.close({ timeoutMs: 30_000 });
      if (summary.deadLettered > 0 || summary.timedOut) {
        throw new Error(`writer closed with ${summary.deadLettered} dead-lettered, timedOut=${summary.timedOut}`);
      }
    },
    extra: () => ({ stats: writer.stats(), health: writer.health() }),
  };
}
