import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShardRuns } from './get.js';

test('ShardRuns: one range request per run of pieces, the next run read ahead; a failed run fails its pieces only', async () => {
  const P = 4;
  const pieces = 10;
  const asked: string[] = [];
  const runs = new ShardRuns(P, pieces, 4, async (first, count) => {
    asked.push(`${first}+${count}`);
    if (first === 4 && asked.filter((a) => a === '4+4').length === 1) throw new Error('broken');
    return Uint8Array.from({ length: count * P }, (_, i) => first + Math.floor(i / P));
  });
  assert.deepEqual([...(await runs.piece(0))], [0, 0, 0, 0]);
  assert.deepEqual(asked, ['0+4', '4+4'], 'run 1 is read ahead with run 0');
  for (let s = 1; s < 4; s++) assert.deepEqual([...(await runs.piece(s))], [s, s, s, s]);
  await assert.rejects(runs.piece(4), /broken/);
  // The last, short run; asking past the end is an error, not a request.
  assert.deepEqual([...(await runs.piece(9))], [9, 9, 9, 9]);
  assert.deepEqual(asked, ['0+4', '4+4', '8+2']);
  await assert.rejects(runs.piece(10), RangeError);
  // A piece of a run that was dropped (all taken) is fetched again.
  assert.deepEqual([...(await runs.piece(1))], [1, 1, 1, 1]);
  assert.deepEqual(asked.slice(3), ['0+4']);
});

test('ShardRuns: with a pool, a run buffer goes back once every segment using it was written, and is read into again', async () => {
  const P = 4;
  const given: Uint8Array[] = [];
  const pool = {
    take: (bytes: number) => given.find((b) => b.length === bytes && given.splice(given.indexOf(b), 1)),
    give: (b: Uint8Array) => void given.push(b),
  };
  const intos: (Uint8Array | undefined)[] = [];
  const runs = new ShardRuns(P, 8, 2, async (first, count, into) => {
    intos.push(into);
    const b = into ?? new Uint8Array(count * P);
    b.fill(first);
    return b;
  }, pool);
  await runs.piece(0);
  await runs.piece(1); // run 0 fully taken; run 1 read ahead
  runs.recycle(1);
  assert.equal(given.length, 0, 'segment 1 is not written yet: run 0 stays');
  runs.recycle(2);
  assert.equal(given.length, 1, 'both of run 0\'s segments written: its buffer is back');
  const first = given[0];
  await runs.piece(2); // run 1 (read ahead, no pool then); run 2 read ahead into run 0's buffer
  assert.equal(intos[2], first);
  assert.deepEqual([...(await runs.piece(4))], [4, 4, 4, 4]);
});

