// Unit tests of the seeded generators: no server needed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BSON } from 'mongodb';
import { canonical, generateDocs, shapeTargetBytes, type Shape } from '@scope/testkit';

for (const shape of ['small', 'medium', 'large', 'huge', 'allTypes'] as Shape[]) {
  test(`${shape}: the same seed gives the same documents, another seed others`, () => {
    const count = shape === 'huge' ? 5 : 200;
    const a = generateDocs(shape, count, 42).map(canonical);
    const b = generateDocs(shape, count, 42).map(canonical);
    const c = generateDocs(shape, count, 43).map(canonical);
    assert.equal(a, b);
    assert.not.equal(a, c);
  });
}

for (const [shape, target] of Object.entries(shapeTargetBytes)) {
  test(`${shape}: every document within 10% of ${target} bytes`, () => {
    const docs = generateDocs(shape as Shape, shape === 'huge' ? 20 : 1000, 7);
    for (const doc of docs) {
      const size = BSON.calculateObjectSize(doc);
      assert.ok(Math.abs(size - target) <= target * 0.1, `${shape} document of ${size} bytes is off target ${target}`);
    }
  });
}

test('allTypes carries every BSON type the issue lists (full profile)', () => {
  const [doc] = generateDocs('allTypes', 1, 1, 'full');
  const json = canonical(doc!);
  for (const marker of ['$oid', '$date', '$numberDecimal', '$numberLong', '$numberDouble', '$numberInt', '$binary', '$regularExpression', '$timestamp', '$minKey', '$maxKey']) {
    assert.ok(json.includes(marker), `missing ${marker}`);
  }
  assert.ok(json.includes('null') && json.includes('true') && json.includes('false'));
  assert.ok(json.includes('ключ') && json.includes('😀'));
});

test('the ferretdb profile leaves out only what FerretDB v1 cannot store', () => {
  const [doc] = generateDocs('allTypes', 1, 1, 'ferretdb');
  const json = canonical(doc!);
  assert.not.ok(json.includes('$numberDecimal'));
  assert.not.ok(json.includes('$minKey'));
  for (const marker of ['$oid', '$date', '$numberLong', '$numberDouble', '$binary', '$regularExpression']) {
    assert.ok(json.includes(marker), `missing ${marker}`);
  }
});

test.run();
