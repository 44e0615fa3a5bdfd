// Seeded document generators: the same seed gives the same documents, so a failing test
// or a benchmark run can be reproduced exactly.
import { BSON } from 'mongodb';

const { ObjectId, Decimal128, Long, Double, Int32, Binary, BSONRegExp, Timestamp, MinKey, MaxKey } = BSON;

export type Shape = 'small' | 'medium' | 'large' | 'huge' | 'allTypes';

/** Target encoded size in bytes of each shape (allTypes has no target). */
export const shapeTargetBytes: Record<Exclude<Shape, 'allTypes'>, number> = {
  small: 300,
  medium: 1024,
  large: 16 * 1024,
  huge: 256 * 1024,
};

/** mulberry32: tiny, fast and good enough for test data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const SERVICES = ['api', 'billing', 'search', 'auth', 'mailer'] as const;
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function text(rand: () => number, bytes: number): string {
  let out = '';
  while (out.length < bytes) out += pick(rand, WORDS) + ' ';
  return out.slice(0, bytes);
}

/** ~300 B log event: the shape of the typical high-volume stream. */
function logEvent(rand: () => number, seq: number): Record<string, unknown> {
  return {
    seq,
    ts: new Date(1_700_000_000_000 + Math.floor(rand() * 1e9)),
    level: pick(rand, LEVELS),
    service: pick(rand, SERVICES),
    host: `host-${Math.floor(rand() * 64)}`,
    latencyMs: Math.round(rand() * 5000) / 10,
    status: 200 + Math.floor(rand() * 4) * 100,
    userId: Math.floor(rand() * 1e6),
    path: `/v1/${pick(rand, WORDS)}/${Math.floor(rand() * 1e4)}`,
    message: text(rand, 90 + Math.floor(rand() * 20)),
    tags: [pick(rand, WORDS), pick(rand, WORDS)],
  };
}

/** A log event padded with a payload field until it reaches the target size. */
function sized(rand: () => number, seq: number, target: number): Record<string, unknown> {
  const doc = logEvent(rand, seq);
  const base = BSON.calculateObjectSize(doc);
  const attrs: Record<string, string> = {};
  const chunks = Math.max(1, Math.floor((target - base) / 1024));
  const per = Math.max(1, Math.floor((target - base) / chunks) - 12);
  for (let i = 0; i < chunks; i++) attrs[`a${i}`] = text(rand, per);
  doc.attrs = attrs;
  return doc;
}

/**
 * Which BSON types the target server stores. FerretDB v1.24 rejects nested arrays and
 * drops the connection on Decimal128, MinKey and MaxKey, so its profile leaves those out;
 * a real mongod (`MONGODB_URI`, mongodb-memory-server) gets every type.
 */
export type TypeProfile = 'full' | 'ferretdb';

export function typeProfileFor(serverKind: string): TypeProfile {
  return serverKind === 'ferretdb' ? 'ferretdb' : 'full';
}

/** One document with every BSON type the driver writes (that the profile's server stores). */
function allTypes(rand: () => number, seq: number, profile: TypeProfile): Record<string, unknown> {
  const n = Math.floor(rand() * 1e9);
  const doc: Record<string, unknown> = {
    seq,
    objectId: ObjectId.createFromTime(1_700_000_000 + (n % 1e6)),
    date: new Date(1_600_000_000_000 + n),
    long: Long.fromString(`${n}${seq}`),
    bigint: BigInt(n) * 1_000_003n,
    double: new Double(n + 0.5),
    wholeDouble: new Double(n),
    int32: new Int32(n % 2_000_000),
    binary: new Binary(Buffer.from(Array.from({ length: 16 }, () => Math.floor(rand() * 256)))),
    uuid: new Binary(Buffer.alloc(16, seq % 256), Binary.SUBTYPE_UUID),
    nested: { level1: { level2: { list: [1, 'two', { three: 3, inner: [4, { five: [5] }] }] } } },
    nothing: null,
    yes: true,
    no: false,
    regex: new BSONRegExp('^ab+c$', 'i'),
    timestamp: new Timestamp({ t: 1_700_000_000, i: seq % 1000 }),
    'ключ': 'значение',
    '键': '值 ✓ 😀',
    emoji: 'naïve café 😀',
  };
  if (profile === 'full') {
    doc.decimal = Decimal128.fromString(`${n}.${seq % 1000}`);
    doc.matrix = [[1, 2], [3, [4]], []];
    doc.min = new MinKey();
    doc.max = new MaxKey();
  }
  return doc;
}

/** One document of `shape`; `seq` is stored in it so tests can tell documents apart. */
export function makeDoc(shape: Shape, rand: () => number, seq: number, profile: TypeProfile = 'full'): Record<string, unknown> {
  switch (shape) {
    case 'small':
      return logEvent(rand, seq);
    case 'allTypes':
      return allTypes(rand, seq, profile);
    default:
      return sized(rand, seq, shapeTargetBytes[shape]);
  }
}

/** `count` documents of `shape` for `seed`; the same arguments give the same documents. */
export function generateDocs(shape: Shape, count: number, seed = 1, profile: TypeProfile = 'full'): Record<string, unknown>[] {
  return generateMixed(count, seed, [shape], profile);
}

/** Several shapes interleaved (by default every shape but `huge`): a realistic mixed stream. */
export function generateMixed(
  count: number,
  seed = 1,
  shapes: Shape[] = ['small', 'medium', 'allTypes', 'large'],
  profile: TypeProfile = 'full',
): Record<string, unknown>[] {
  const rand = seededRandom(seed);
  const docs = new Array<Record<string, unknown>>(count);
  for (let i = 0; i < count; i++) docs[i] = makeDoc(shapes[i % shapes.length] as Shape, rand, i, profile);
  return docs;
}
