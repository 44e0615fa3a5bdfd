// The "simple alternative" a user would write instead of this library: a Piscina worker
// that receives an array of plain objects (structured-cloned by postMessage) and inserts it
// with its own MongoClient, created once per worker thread and reused.
import { MongoClient } from 'mongodb';
import { workerData } from 'piscina';

const { uri, db, collection } = workerData;
const client = new MongoClient(uri);
const col = client.db(db).collection(collection);

/** @param {Record<string, unknown>[] | 'ping'} docs */
export default async function insert(docs) {
  if (docs === 'ping') {
    await client.db('admin').command({ ping: 1 });
    return 0;
  }
  const result = await col.insertMany(docs, { ordered: false });
  return result.insertedCount;
}
