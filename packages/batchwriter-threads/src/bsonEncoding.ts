// Encoding documents into the ring and checking raw BSON, with the driver's own BSON.
// Bad input is refused here with a BatchWriterError before anything is enqueued.
import { BSON } from 'mongodb';
import { BatchWriterError } from './errors.js';
import { MAX_DOCUMENT_BYTES } from './options.js';

const { ObjectId, BSONError } = BSON;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** The driver's default: `undefined` values are written as null, like insertMany does. */
const SERIALIZE_OPTIONS = { ignoreUndefined: false, checkKeys: false, serializeFunctions: false, index: 0 };

/** Throws ERR_NOT_PLAIN_OBJECT unless `doc` is an object a collection can hold as a document. */
export function assertDocument(doc: unknown): asserts doc is Record<string, unknown> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || ArrayBuffer.isView(doc) || doc instanceof ArrayBuffer || isBuiltinNonDocument(doc)) {
    const what = doc === null ? 'null' : Array.isArray(doc) ? 'an array' : ArrayBuffer.isView(doc) ? 'a byte array (use writeRaw for BSON bytes)' : typeof doc === 'object' ? `a ${(doc as object).constructor?.name ?? 'special'} object` : `a ${typeof doc}`;
    throw new BatchWriterError('ERR_NOT_PLAIN_OBJECT', `write() takes a plain object as the document, got ${what}; wrap the value in an object such as { value: ... }`, { type: what });
  }
}

function isBuiltinNonDocument(value: object): boolean {
  return value instanceof Map || value instanceof Set || value instanceof Date || value instanceof RegExp || value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet || '_bsontype' in value;
}

/**
 * Values BSON would drop or mangle without a word (functions, symbols, Maps, bigints
 * outside int64) make the document unencodable: find the first one, with its path.
 */
function findUnencodable(value: unknown, path: string, depth: number): string | undefined {
  if (depth > 100) return undefined; // bson itself refuses deeper cycles; nothing to add
  const type = typeof value;
  if (type === 'function' || type === 'symbol') return `${path} is a ${type}`;
  if (type === 'bigint') return (value as bigint) < INT64_MIN || (value as bigint) > INT64_MAX ? `${path} is a bigint outside the 64-bit range` : undefined;
  if (type !== 'object' || value === null) return undefined;
  const obj = value as Record<string, unknown>;
  if ('_bsontype' in obj || value instanceof Date || ArrayBuffer.isView(value) || value instanceof RegExp) return undefined;
  if (value instanceof Map || value instanceof Set || value instanceof Promise || value instanceof WeakMap) return `${path} is a ${value.constructor.name}`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findUnencodable(value[i], `${path}[${i}]`, depth + 1);
      if (bad) return bad;
    }
    return undefined;
  }
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
    const bad = findUnencodable(obj[key], `${path}.${key}`, depth + 1);
    if (bad) return bad;
  }
  return undefined;
}

function tooLarge(size: number, limit: number, what: string): BatchWriterError {
  return new BatchWriterError(
    'ERR_DOC_TOO_LARGE',
    `the document encodes to ${size >= 17 * 1024 * 1024 ? 'more than 17 MiB' : `${size} bytes`}, over ${what} (${limit} bytes); split it or store large payloads elsewhere (GridFS)`,
    { size, limit },
  );
}

/** Gives `doc` a new ObjectId `_id` when it has none, as the driver's insert does. */
export function ensureId(doc: Record<string, unknown>): void {
  if (doc._id === undefined) doc._id = new ObjectId();
}

/**
 * Encodes `doc` into `target` at `offset`, never past `limit`. Returns the encoded length,
 * or -1 when it does not fit there (the caller then measures it and finds room).
 */
export function encodeInto(doc: Record<string, unknown>, target: Buffer, offset: number, limit: number, maxBytes: number): number {
  let end: number;
  try {
    SERIALIZE_OPTIONS.index = offset;
    end = BSON.serializeWithBufferAndIndex(doc, limit === target.length ? target : target.subarray(0, limit), SERIALIZE_OPTIONS);
  } catch (err) {
    if (err instanceof RangeError) return -1;
    throw encodeError(doc, err);
  }
  const length = end - offset + 1;
  checkEncoded(doc, length, maxBytes);
  return length;
}

/** The encoded size of `doc` (the slow path, when it did not fit where it was tried). */
export function measure(doc: Record<string, unknown>, maxBytes: number): number {
  let size: number;
  try {
    size = BSON.calculateObjectSize(doc, { ignoreUndefined: false, serializeFunctions: false });
  } catch (err) {
    throw encodeError(doc, err);
  }
  checkEncoded(doc, size, maxBytes);
  return size;
}

/** Refuses a record that can never fit the ring. */
export function checkFitsQueue(length: number, queueBytes: number): void {
  if (length > queueBytes) throw tooLarge(length, queueBytes, 'queueBytes');
}

function checkEncoded(doc: Record<string, unknown>, length: number, maxBytes: number): void {
  if (length > MAX_DOCUMENT_BYTES) throw tooLarge(length, MAX_DOCUMENT_BYTES, 'the 16 MiB BSON document limit');
  checkFitsQueue(length, maxBytes);
  const bad = findUnencodable(doc, 'doc', 0);
  if (bad) throw new BatchWriterError('ERR_UNENCODABLE', `the document cannot be encoded to BSON: ${bad}; convert it to a BSON type (string, number, Date, Binary, ...) or remove it`, { path: bad });
}

function encodeError(doc: unknown, err: unknown): BatchWriterError {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof BSONError && /circular/i.test(message)) {
    return new BatchWriterError('ERR_CIRCULAR', 'the document contains a circular reference; BSON documents are trees: remove the cycle', {}, { cause: err });
  }
  if (err instanceof RangeError && /call stack/i.test(message)) {
    return new BatchWriterError('ERR_CIRCULAR', 'the document nests too deeply (or refers to itself); flatten it', {}, { cause: err });
  }
  return new BatchWriterError('ERR_UNENCODABLE', `the document cannot be encoded to BSON: ${message}`, {}, { cause: err });
}

const ID_KEY = Buffer.from('_id\0', 'latin1');

/**
 * Checks that `bytes` is exactly one well-formed BSON document (lengths, terminators and
 * element types, nested documents included) and tells whether it has a top-level `_id`.
 */
export function inspectRaw(bytes: Uint8Array): { hasId: boolean } {
  if (!(bytes instanceof Uint8Array)) {
    throw new BatchWriterError('ERR_INVALID_BSON', `writeRaw() takes a Uint8Array or Buffer of BSON, got ${bytes === null ? 'null' : typeof bytes}; use write() for objects`);
  }
  if (bytes.length >= 4) {
    const declared = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(0, true);
    if (declared !== bytes.length) {
      throw new BatchWriterError('ERR_INVALID_BSON', `the BSON document declares ${declared} bytes but ${bytes.length} were given; pass exactly one document`, { declared, length: bytes.length });
    }
  }
  if (bytes.length > MAX_DOCUMENT_BYTES) throw tooLarge(bytes.length, MAX_DOCUMENT_BYTES, 'the 16 MiB BSON document limit');
  let hasId = false;
  try {
    for (const [type, nameOffset, nameLength] of validateDocument(bytes, 0, 0)) {
      if (nameLength === 3 && bytes[nameOffset] === 0x5f && bytes[nameOffset + 1] === 0x69 && bytes[nameOffset + 2] === 0x64 && type !== 0) hasId = true;
    }
  } catch (err) {
    throw new BatchWriterError('ERR_INVALID_BSON', `the bytes are not a well-formed BSON document: ${(err as Error).message}`, {}, { cause: err });
  }
  return { hasId };
}

function validateDocument(bytes: Uint8Array, start: number, depth: number): Iterable<BSON.OnDemand['BSONElement']> {
  if (depth > 100) throw new Error('nested more than 100 levels');
  const elements = BSON.onDemand.parseToElements(bytes, start);
  for (const [type, , , offset] of elements) {
    if (type === 3 || type === 4) validateDocument(bytes, offset, depth + 1);
  }
  return elements;
}

/**
 * Writes `bytes` into `target` at `offset` with a new ObjectId `_id` as its first element,
 * at the byte level (new length prefix + the element), without decoding. Returns the length.
 */
export function spliceId(bytes: Uint8Array, target: Buffer, offset: number): number {
  const length = bytes.length + 1 + ID_KEY.length + 12;
  target.writeInt32LE(length, offset);
  target[offset + 4] = 0x07; // ObjectId element
  ID_KEY.copy(target, offset + 5);
  target.set(new ObjectId().id, offset + 5 + ID_KEY.length);
  target.set(bytes.subarray(4), offset + 5 + ID_KEY.length + 12);
  return length;
}

/** Size `spliceId` needs for `bytes`. */
export function splicedLength(bytes: Uint8Array): number {
  return bytes.length + 1 + ID_KEY.length + 12;
}
