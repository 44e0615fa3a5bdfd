// Assertions on what reached the database: exactly the written `_id`s, each document
// byte-for-byte what was written (BSON types included).
import * as assert from 'uvu/assert';
import type { Collection, Document } from 'mongodb';
import { canonical, idKey, readBackById, sameDocument } from '@scope/testkit';
import type { BatchWriter } from '@scope/batchwriter-threads';

export async function assertCollectionHolds(collection: Collection, written: Document[]): Promise<void> {
  const back = await readBackById(collection);
  assert.is(back.size, written.length, `collection holds ${back.size} documents, ${written.length} were written`);
  for (const doc of written) {
    assert.ok(doc._id !== undefined, 'written document has no _id: write() must assign one');
    const got = back.get(idKey(doc._id));
    assert.ok(got, `missing ${idKey(doc._id)}`);
    if (!sameDocument(doc, got)) assert.fixture(canonical(got), canonical({ _id: doc._id, ...doc }));
  }
}

/** The accounting invariant every test ends with. */
export function assertBalanced(writer: BatchWriter): void {
  const s = writer.stats();
  assert.is(s.accepted, s.inserted + s.duplicates + s.deadLettered, `accepted ${s.accepted} != inserted ${s.inserted} + duplicates ${s.duplicates} + deadLettered ${s.deadLettered}`);
}
