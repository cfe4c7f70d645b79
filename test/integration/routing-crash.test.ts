// kill -9 while keyed records dated over three days flow into daily indices ({yyyy.MM.dd} from each
// record's timestamp). Redelivered records must land in the same daily index under the same id: in
// the end each day's index holds exactly that day's keys, each at its last sequence number, and
// nothing anywhere else.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { groupCommittedOffsets, produce, type ProducedMessage, topicEndOffsets } from '../helpers/kafka.js';
import { BASE_TIME, DAY_MS, countsByIndex, createDatedTopic, dropIndices } from '../helpers/records.js';
import { allDocuments } from '../helpers/search.js';
import { killRepeatedly, runUntilCaughtUp } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const RECORDS = 9_000;
const KEYS = 900;
const DAYS = ['2026.01.01', '2026.01.02', '2026.01.03'];

for (const engine of stack.engines) {
  describe(`redelivery into daily indices on ${engine.name}`, () => {
    it('doubles nothing across daily indices after repeated kill -9', async () => {
      const topic = uniqueName('rt-crash');
      const groupId = uniqueName('rt-crash-group');
      await createDatedTopic(topic, 4);
      // A key keeps its day; its records carry rising sequence numbers (and timestamps within the day).
      const records: ProducedMessage[] = [];
      const last = new Map<string, { seq: number; day: number }>();
      for (let seq = 0; seq < RECORDS; seq++) {
        const n = seq % KEYS;
        const day = n % DAYS.length;
        records.push({ key: `k${n}`, value: JSON.stringify({ key: `k${n}`, seq }), timestamp: BASE_TIME + day * DAY_MS + seq });
        last.set(`k${n}`, { seq, day });
      }
      const env = { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engine.url, K2E_INDEX: `${topic}-{yyyy.MM.dd}`, K2E_BATCH_MAX_DOCS: '100', K2E_BATCH_LINGER_MS: '20', K2E_BATCH_MAX_IN_FLIGHT: '2' };

      // Slices over about 45 s, so records keep arriving while the instances start and are killed.
      const producing = (async () => {
        for (let i = 0; i < records.length; i += 300) {
          await produce(topic, records.slice(i, i + 300));
          await sleep(1500);
        }
      })();

      const { inFlightKills } = await killRepeatedly(env, 5, 400);
      await producing;
      await runUntilCaughtUp(env, groupId, topic);
      assert.ok(inFlightKills >= 2, `at least 2 kills must hit while records were in flight, got ${inFlightKills}`);
      assert.deepEqual(await groupCommittedOffsets(groupId, topic), await topicEndOffsets(topic));

      // Exactly three indices, each with that day's keys only.
      const perDay = KEYS / DAYS.length;
      assert.deepEqual(Object.fromEntries(await countsByIndex(engine.url, `${topic}-*`)), Object.fromEntries(DAYS.map((d) => [`${topic}-${d}`, perDay])));
      for (const [i, day] of DAYS.entries()) {
        const docs = await allDocuments(engine.url, `${topic}-${day}`);
        const wrong = [...last].filter(([key, want]) => want.day === i && (docs.get(key) as { seq?: number } | undefined)?.seq !== want.seq);
        assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} keys of ${day} are not at their last sequence number`);
      }
      await dropIndices(engine.url, topic);
    });
  });
}
