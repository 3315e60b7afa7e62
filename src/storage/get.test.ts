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
