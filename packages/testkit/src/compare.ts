// How tests decide that what came back from the server is what was written: the same
// BSON bytes, so every type (Double vs Int32, Long, Decimal128, Binary subtype) must survive.
import { BSON, type Collection, type Document } from 'mongodb';

/** Canonical Extended JSON of a document: readable in an assertion message, exact in types. */
export function canonical(doc: Document): string {
  return BSON.EJSON.stringify(doc, { relaxed: false });
}

/**
 * Reads documents back with the driver's type promotion off, so each value keeps the BSON
 * type the server stored, keyed by `_id` in canonical form.
 */
export async function readBackById(collection: Collection): Promise<Map<string, Document>> {
  const out = new Map<string, Document>();
  const cursor = collection.find({}, { promoteValues: false, promoteLongs: false, promoteBuffers: false });
  for await (const doc of cursor) out.set(canonical({ id: doc._id }), doc);
  return out;
}

/** The canonical key `readBackById` uses for an `_id`. */
export function idKey(id: unknown): string {
  return canonical({ id });
}

/**
 * True when both documents encode to the same BSON, types and field order included, except
 * that `_id` is compared as the first field (servers store it first).
 */
export function sameDocument(a: Document, b: Document): boolean {
  return Buffer.compare(BSON.serialize(idFirst(a)), BSON.serialize(idFirst(b))) === 0;
}

function idFirst(doc: Document): Document {
  return '_id' in doc ? { _id: doc._id, ...doc } : doc;
}
