// The shared-memory layout: one SharedArrayBuffer holds a block of 64-bit slots (counters
// and ring positions) followed by the ring's byte area. Every cross-thread read or write
// of a slot goes through Atomics.

/** Slot indexes into the BigInt64Array over the header. */
export const Slot = {
  /** Documents accepted by write()/tryWrite()/writeRaw() (main thread). */
  ACCEPTED: 0,
  /** Documents the server stored (main thread, from batch results). */
  INSERTED: 1,
  /** Documents whose `_id` was already there: inserted earlier (main thread). */
  DUPLICATES: 2,
  /** Insert attempts after a batch's first (workers). */
  RETRIES: 3,
  /** Documents handed to the dead-letter sink (main thread). */
  DEAD_LETTERED: 4,
  /** Batches settled (main thread). */
  BATCHES: 5,
  /** BSON bytes sent in insert attempts (workers). */
  BYTES_SENT: 6,
  /** tryWrite() calls refused because the ring was full (main thread). */
  REJECTED_FULL: 7,
  /** Workers that died and were replaced (main thread). */
  WORKER_RESTARTS: 8,
  /** Virtual offset where the next record goes (main thread). */
  RING_HEAD: 9,
  /** Virtual offset below which space is released (main thread). */
  RING_TAIL: 10,
  /** Batches handed to workers and not yet settled (main thread). */
  INFLIGHT_BATCHES: 11,
  /** 0 running, 1 shutting down, 2 closed (main thread). */
  STATE: 12,
  /** Set to 1 when close()'s deadline passes: workers abort attempts and backoffs (main thread). */
  DEADLINE_PASSED: 13,
  /** Workers that closed their MongoClient after close() asked them to (workers). */
  CLIENTS_CLOSED: 14,
  /** Dead-letter records that could not be written to the file (main thread). */
  DEAD_LETTER_WRITE_FAILURES: 15,
} as const;

export const SLOT_COUNT = 16;
export const HEADER_BYTES = SLOT_COUNT * 8;

export const State = { RUNNING: 0, SHUTTING_DOWN: 1, CLOSED: 2 } as const;

export interface SharedViews {
  sab: SharedArrayBuffer;
  slots: BigInt64Array;
  /** The ring's byte area, as a Buffer over the same memory. */
  bytes: Buffer;
}

export function allocateShared(queueBytes: number): SharedViews {
  const sab = new SharedArrayBuffer(HEADER_BYTES + queueBytes);
  return viewsOf(sab);
}

export function viewsOf(sab: SharedArrayBuffer): SharedViews {
  return {
    sab,
    slots: new BigInt64Array(sab, 0, SLOT_COUNT),
    bytes: Buffer.from(sab, HEADER_BYTES, sab.byteLength - HEADER_BYTES),
  };
}

export function readSlot(slots: BigInt64Array, slot: number): number {
  return Number(Atomics.load(slots, slot));
}

export function addSlot(slots: BigInt64Array, slot: number, n: number): void {
  Atomics.add(slots, slot, BigInt(n));
}

export function storeSlot(slots: BigInt64Array, slot: number, n: number): void {
  Atomics.store(slots, slot, BigInt(n));
}
