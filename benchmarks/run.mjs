#!/usr/bin/env node
// Placeholder until the benchmark suite lands (issue 5): one run of the floor
// (BSON.serialize) against the driver's insertMany on the testkit server.
import { BSON, MongoClient } from 'mongodb';
import { generateDocs, startServer } from '@scope/testkit';

const docs = generateDocs('small', 50_000, 1);
const server = await startServer();
const client = new MongoClient(server.uri);
try {
  let t = process.hrtime.bigint();
  for (const d of docs) BSON.serialize(d);
  const serializeNs = Number(process.hrtime.bigint() - t) / docs.length;
  const col = client.db('bench_placeholder').collection('docs');
  await col.drop().catch(() => {});
  t = process.hrtime.bigint();
  for (let i = 0; i < docs.length; i += 1000) await col.insertMany(docs.slice(i, i + 1000).map((d) => ({ ...d })), { ordered: false });
  const insertNs = Number(process.hrtime.bigint() - t) / docs.length;
  console.log(`server: ${server.kind}`);
  console.log('| approach | ns/doc (wall) | ratio to floor |');
  console.log('|---|---:|---:|');
  console.log(`| BSON.serialize (floor) | ${serializeNs.toFixed(0)} | 1.00 |`);
  console.log(`| driver insertMany, 1 batch in flight | ${insertNs.toFixed(0)} | ${(insertNs / serializeNs).toFixed(1)} |`);
} finally {
  await client.close();
  await server.stop();
}
