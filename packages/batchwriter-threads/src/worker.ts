// The Piscina worker: one MongoClient for the life of the thread, batches read straight
// from the shared ring, inserted by insertWithRetries. Counters it owns (retries, bytes
// sent) go through Atomics; everything else comes back to the main thread as plain data.
import { BroadcastChannel } from 'node:worker_threads';
import { BSON, MongoClient, type Collection, type Document } from 'mongodb';
import { workerData } from 'piscina';
import { insertWithRetries } from './insertBatch.js';
import type { ControlMessage, DocumentFailure, InsertResult, InsertTask, PingResult, WorkerConfig, WorkerTask } from './protocol.js';
import { redactText } from './redact.js';
import { addSlot, readSlot, Slot, viewsOf } from './sharedLayout.js';

const config = workerData as WorkerConfig;
const { slots, bytes } = viewsOf(config.sab);
const redact = (text: string): string => redactText(text, config.uri);

/** Keeps every BSON type as it was written (Int32 vs Double, Long, Binary, regex flags). */
const DECODE_OPTIONS = { promoteValues: false, promoteLongs: false, promoteBuffers: false, bsonRegExp: true } as const;

const deadline = new AbortController();
let client: MongoClient | undefined;
let collection: Collection | undefined;

const channel = new BroadcastChannel(config.channel);
channel.unref();
channel.onmessage = (event: unknown) => {
  const msg = (event as { data: ControlMessage }).data;
  if (msg.type === 'deadline') deadline.abort();
  else if (msg.type === 'close') void closeClient();
};
if (readSlot(slots, Slot.DEADLINE_PASSED) === 1) deadline.abort();

function getCollection(): Collection {
  if (!collection) {
    client = new MongoClient(config.uri, {
      serverSelectionTimeoutMS: config.attemptTimeoutMs,
      connectTimeoutMS: config.attemptTimeoutMs,
      ...config.clientOptions,
    });
    collection = client.db(config.db).collection(config.collection);
  }
  return collection;
}

async function closeClient(): Promise<void> {
  const c = client;
  client = undefined;
  collection = undefined;
  const closing = c?.close(true).catch(() => {});
  // With the server paused or unreachable, MongoClient.close() waits for seconds (it opens a
  // connection to end the sessions). Past close()'s deadline nobody may wait for that: the
  // thread is terminated with the pool right after, which closes its sockets.
  if (!deadline.signal.aborted) await closing;
  addSlot(slots, Slot.CLIENTS_CLOSED, 1);
}

async function ping(): Promise<PingResult> {
  try {
    getCollection();
    const hello = await client!.db('admin').command({ hello: 1 }, { signal: AbortSignal.timeout(config.attemptTimeoutMs) });
    return {
      ok: true,
      maxMessageSizeBytes: hello.maxMessageSizeBytes,
      maxBsonObjectSize: hello.maxBsonObjectSize,
      maxWriteBatchSize: hello.maxWriteBatchSize,
    };
  } catch (err) {
    // create() fails now; the pool is destroyed right after, whatever the client is still doing.
    void closeClient();
    return { ok: false, message: redact(err instanceof Error ? `${err.name}: ${err.message}` : String(err)) };
  }
}

/** Decodes the records of a batch; a record that does not decode fails alone. */
function decode(task: InsertTask, failures: DocumentFailure[]): { docs: Document[]; sizes: number[]; positions: number[] } {
  const docs: Document[] = [];
  const sizes: number[] = [];
  const positions: number[] = [];
  let offset = task.start;
  for (let index = 0; index < task.count; index++) {
    const size = bytes.readInt32LE(offset);
    try {
      docs.push(BSON.deserialize(bytes.subarray(offset, offset + size), DECODE_OPTIONS));
      sizes.push(size);
      positions.push(index);
    } catch (err) {
      failures.push({ index, reason: 'invalid_document', code: 'ERR_INVALID_BSON', labels: [], message: redact((err as Error).message), attempts: 0 });
    }
    offset += size;
  }
  return { docs, sizes, positions };
}

async function insert(task: InsertTask): Promise<InsertResult> {
  const failures: DocumentFailure[] = [];
  const { docs, sizes, positions } = decode(task, failures);
  const outcome = await insertWithRetries(docs, sizes, {
    collection: getCollection(),
    writeConcern: config.writeConcern,
    retries: config.retries,
    retryBackoffMinMs: config.retryBackoffMinMs,
    retryBackoffMaxMs: config.retryBackoffMaxMs,
    attemptTimeoutMs: config.attemptTimeoutMs,
    deadline: deadline.signal,
    redact,
    onRetry: () => addSlot(slots, Slot.RETRIES, 1),
    onAttempt: (n) => addSlot(slots, Slot.BYTES_SENT, n),
  });
  // Indexes in the outcome are into `docs`; map them back to positions in the batch.
  for (const f of outcome.failures) failures.push({ ...f, index: positions[f.index] as number });
  return { inserted: outcome.inserted, duplicates: outcome.duplicates, failures };
}

export default function run(task: WorkerTask): Promise<InsertResult | PingResult> {
  return task.kind === 'ping' ? ping() : insert(task);
}
