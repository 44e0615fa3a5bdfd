// The classifier decides from the driver's own classes, codes and labels what an error
// means: real driver error objects in, the expected class out. The module is internal (not
// exported by the package), so the test imports its source; the runner bundles it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  MongoBulkWriteError,
  MongoClient,
  MongoError,
  MongoErrorLabel,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoOperationTimeoutError,
  MongoParseError,
  MongoServerError,
  MongoServerSelectionError,
  MongoWriteConcernError,
} from 'mongodb';
import { classifyError, classifyWriteErrorCode, codeOf, labelsOf, type ErrorClass } from '../packages/batchwriter-threads/src/errorClassification.js';

function serverError(code: number, codeName: string, errorLabels?: string[]): MongoServerError {
  return new MongoServerError({ ok: 0, code, codeName, errmsg: `${codeName} (${code})`, ...(errorLabels ? { errorLabels } : {}) });
}

/** A server selection error as the driver builds one: a topology description with its last error. */
function serverSelectionError(): MongoServerSelectionError {
  const reason = { type: 'Unknown', servers: new Map(), error: new MongoNetworkError('connect ECONNREFUSED 127.0.0.1:1') };
  return new MongoServerSelectionError('Server selection timed out after 100 ms', reason as unknown as ConstructorParameters<typeof MongoServerSelectionError>[1]);
}

function withLabel<T extends MongoError>(err: T, label: string): T {
  err.addErrorLabel(label);
  return err;
}

const table: [string, unknown, ErrorClass][] = [
  ['MongoNetworkError', new MongoNetworkError('connection 3 to 127.0.0.1:27017 closed'), 'retryable'],
  ['MongoNetworkTimeoutError', new MongoNetworkTimeoutError('connection 3 to 127.0.0.1:27017 timed out'), 'retryable'],
  ['MongoServerSelectionError', serverSelectionError(), 'retryable'],
  ['MongoOperationTimeoutError', new MongoOperationTimeoutError('Timed out during operation execution'), 'retryable'],
  ['MongoWriteConcernError (64 WriteConcernFailed)', new MongoWriteConcernError({ writeConcernError: { code: 64, errmsg: 'waiting for replication timed out' }, ok: 1 }), 'retryable'],
  ['MongoWriteConcernError (100 UnsatisfiableWriteConcern)', new MongoWriteConcernError({ writeConcernError: { code: 100, errmsg: 'Not enough data-bearing nodes' }, ok: 1 }), 'retryable'],
  ['MongoServerError 11000 DuplicateKey', serverError(11000, 'DuplicateKey'), 'duplicate'],
  ['MongoServerError 11001 (legacy duplicate key)', serverError(11001, 'DuplicateKeyLegacy'), 'duplicate'],
  ['MongoServerError 12582 (duplicate key on mongos)', serverError(12582, 'DuplicateKeyMongos'), 'duplicate'],
  ['MongoServerError 10107 NotWritablePrimary', serverError(10107, 'NotWritablePrimary'), 'retryable'],
  ['MongoServerError 13435 NotPrimaryNoSecondaryOk', serverError(13435, 'NotPrimaryNoSecondaryOk'), 'retryable'],
  ['MongoServerError 91 ShutdownInProgress', serverError(91, 'ShutdownInProgress'), 'retryable'],
  ['MongoServerError 11600 InterruptedAtShutdown', serverError(11600, 'InterruptedAtShutdown'), 'retryable'],
  ['MongoServerError 6 HostUnreachable', serverError(6, 'HostUnreachable'), 'retryable'],
  ['MongoServerError 189 PrimarySteppedDown', serverError(189, 'PrimarySteppedDown'), 'retryable'],
  ['MongoServerError 50 MaxTimeMSExpired', serverError(50, 'MaxTimeMSExpired'), 'retryable'],
  ['MongoServerError 121 DocumentValidationFailure', serverError(121, 'DocumentValidationFailure'), 'fatal'],
  ['MongoServerError 2 BadValue', serverError(2, 'BadValue'), 'fatal'],
  ['MongoServerError 13 Unauthorized', serverError(13, 'Unauthorized'), 'fatal'],
  ['MongoServerError 18 AuthenticationFailed', serverError(18, 'AuthenticationFailed'), 'fatal'],
  ['MongoServerError with the RetryableWriteError label (from the reply)', serverError(999, 'SomethingTransient', [MongoErrorLabel.RetryableWriteError]), 'retryable'],
  ['MongoServerError 121 with the RetryableWriteError label added', withLabel(serverError(121, 'DocumentValidationFailure'), MongoErrorLabel.RetryableWriteError), 'retryable'],
  ['MongoServerError with the SystemOverloadedError label', serverError(462, 'IngressRequestRateLimitExceeded', [MongoErrorLabel.SystemOverloadedError]), 'retryable'],
  ['MongoNetworkError with the RetryableWriteError label', withLabel(new MongoNetworkError('reset'), MongoErrorLabel.RetryableWriteError), 'retryable'],
  ['DOMException TimeoutError (AbortSignal.timeout)', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'retryable'],
  ['MongoInvalidArgumentError', new MongoInvalidArgumentError('Argument "docs" must be an array of documents'), 'fatal'],
  ['MongoParseError', new MongoParseError('Invalid scheme'), 'fatal'],
  ['plain Error', new Error('something else'), 'fatal'],
  ['TypeError', new TypeError('x is not a function'), 'fatal'],
  ['a string', 'boom', 'fatal'],
  ['undefined', undefined, 'fatal'],
];

for (const [name, err, expected] of table) {
  test(`classifyError: ${name} → ${expected}`, () => {
    assert.is(classifyError(err), expected);
  });
}

test('the DOMException of AbortSignal.timeout, as an aborted attempt surfaces it, is retryable', async () => {
  const signal = AbortSignal.timeout(1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const reason: unknown = signal.reason;
  assert.instance(reason, DOMException);
  assert.is((reason as DOMException).name, 'TimeoutError');
  assert.is(classifyError(reason), 'retryable');
});

test('a real server selection failure (nothing listens on the port) is retryable', async () => {
  const client = new MongoClient('mongodb://127.0.0.1:1/', { serverSelectionTimeoutMS: 200 });
  try {
    const err = await client
      .db('x')
      .collection('y')
      .insertOne({ a: 1 })
      .then(() => undefined, (e: unknown) => e);
    assert.instance(err, MongoServerSelectionError);
    assert.is(classifyError(err), 'retryable');
  } finally {
    await client.close();
  }
});

test('classifyWriteErrorCode: per-document codes of a bulk write', () => {
  const cases: [number | undefined, ErrorClass][] = [
    [11000, 'duplicate'],
    [11001, 'duplicate'],
    [12582, 'duplicate'],
    [10107, 'retryable'],
    [91, 'retryable'],
    [64, 'retryable'],
    [112, 'retryable'],
    [121, 'fatal'],
    [2, 'fatal'],
    [17419, 'fatal'],
    [undefined, 'fatal'],
  ];
  for (const [code, expected] of cases) assert.is(classifyWriteErrorCode(code), expected, `code ${code}`);
});

test('a MongoBulkWriteError is classified by its code; its write errors one by one', () => {
  const bulk = new MongoBulkWriteError(
    { message: 'E11000 duplicate key error', code: 11000, writeErrors: [] } as unknown as ConstructorParameters<typeof MongoBulkWriteError>[0],
    { insertedCount: 0, matchedCount: 0, modifiedCount: 0, deletedCount: 0, upsertedCount: 0, upsertedIds: {}, insertedIds: {} } as unknown as ConstructorParameters<typeof MongoBulkWriteError>[1],
  );
  assert.instance(bulk, MongoServerError);
  assert.is(classifyError(bulk), 'duplicate');
});

test('codeOf and labelsOf give plain data for a dead-letter record', () => {
  assert.is(codeOf(serverError(11000, 'DuplicateKey')), '11000');
  assert.is(codeOf(new MongoNetworkError('x')), 'MongoNetworkError');
  assert.is(codeOf(new DOMException('t', 'TimeoutError')), 'TimeoutError');
  assert.is(codeOf('boom'), 'unknown');
  assert.equal(labelsOf(serverError(999, 'X', [MongoErrorLabel.RetryableWriteError])), [MongoErrorLabel.RetryableWriteError]);
  assert.equal(labelsOf(new Error('x')), []);
});

test.run();
