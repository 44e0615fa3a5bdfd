// The server the test runner started for the whole run (or MONGODB_URI), and a fresh
// database name per suite so suites never see each other's documents.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { startServer, typeProfileFor, type TestServer, type TypeProfile } from '@scope/testkit';

export function sharedUri(): string {
  const uri = process.env.MONGODB_URI;
  if (!uri) throw new Error('run the suites through `pnpm test` (it starts the server and sets MONGODB_URI)');
  return uri;
}

/** What BSON types the run's server stores (FerretDB lacks a few). */
export function sharedTypeProfile(): TypeProfile {
  return typeProfileFor(process.env.TESTKIT_SERVER_KIND ?? 'external');
}

export function freshDbName(prefix: string): string {
  return `bwt_${prefix}_${randomBytes(4).toString('hex')}`;
}

export async function connectShared(): Promise<MongoClient> {
  const client = new MongoClient(sharedUri(), { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  return client;
}

/**
 * A fresh database on the shared server for one suite: connects before the suite, drops
 * the database and disconnects after it.
 */
export function useFreshDatabase(suite: { before(fn: () => Promise<void>): void; after(fn: () => Promise<void>): void }, prefix: string): { name: string; client(): MongoClient } {
  const name = freshDbName(prefix);
  let client: MongoClient | undefined;
  suite.before(async () => {
    client = await connectShared();
  });
  suite.after(async () => {
    await client?.db(name).dropDatabase().catch(() => {});
    await client?.close();
  });
  return {
    name,
    client: () => {
      if (!client) throw new Error('the suite has not started');
      return client;
    },
  };
}

/**
 * Runs `fn` against a server of its own (fault tests kill and pause it, so never the shared
 * one), with a client on it; resumes, disconnects and stops it whatever happens.
 */
export async function withOwnServer(fn: (server: TestServer, client: MongoClient) => Promise<void>): Promise<void> {
  const server = await startServer({ own: true });
  const client = new MongoClient(server.uri, { serverSelectionTimeoutMS: 20_000 });
  try {
    await fn(server, client);
  } finally {
    server.resume();
    await client.close().catch(() => {});
    await server.stop();
  }
}
