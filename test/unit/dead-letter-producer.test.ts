// The dead-letter producer's decisions: how records are cut into requests the topic accepts (checked
// against the client's real record-batch encoding), what a failed attempt leads to (retry, smaller,
// new producer, give up), and the queue acting on them with a scripted producer in place of the broker.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRecordsBatch, MultipleErrors, NetworkError, ProtocolError, ResponseError, type Producer } from '@platformatic/kafka';
import { loadConfig } from '../../src/config/load.js';
import { BATCH_HEADER_BYTES, batchBudget, recordBytes, splitIntoGroups, truncateToFit, type SizedMessage } from '../../src/dead-letter/batching.js';
import { type DeadLetter, DeadLetterAbandonedError, DeadLetterUnavailableError, DLQ_HEADERS } from '../../src/dead-letter/failure.js';
import { type DeadLetterClients, DeadLetterQueue, stateOf } from '../../src/dead-letter/producer.js';
import { AttemptTimeoutError, classifyProduceError, MAX_SHRINKS, nextStep } from '../../src/dead-letter/send-policy.js';
import { TopicLimits } from '../../src/dead-letter/topic-limits.js';
import { BROKER_DEFAULT_MAX_MESSAGE_BYTES } from '../../src/dead-letter/batching.js';
import type { SourceRecord } from '../../src/source/record.js';
import { createLogger } from '../../src/util/logger.js';

const logger = createLogger(process.env.TEST_LOG ?? 'silent');

interface TestMessage extends SizedMessage {
  topic: string;
  partition?: number;
  timestamp?: bigint;
}

/** The bytes the client really writes for these messages as one record batch. */
function encodedBatchBytes(messages: readonly TestMessage[]): number {
  const copies = messages.map((m) => ({ ...m, partition: 0, timestamp: m.timestamp ?? 1_700_000_000_000n }));
  return createRecordsBatch(copies as never).length;
}

const header = (entries: Record<string, string>): Map<Buffer, Buffer> => new Map(Object.entries(entries).map(([k, v]) => [Buffer.from(k), Buffer.from(v)]));

const kib = (i: number, size = 1024): TestMessage => ({
  topic: 'd',
  key: Buffer.from(`key-${i}`),
  value: Buffer.alloc(size, 'x'),
  headers: header({ [DLQ_HEADERS.errorClass]: 'rejected', [DLQ_HEADERS.errorType]: 'strict_dynamic_mapping_exception', [DLQ_HEADERS.reason]: 'mapping set to strict, dynamic introduction of [extra] within [_doc] is not allowed', [DLQ_HEADERS.offset]: String(i) }),
});

describe('dead-letter batching', () => {
  it('estimates each record at or above its real encoded size', () => {
    for (const m of [kib(0), kib(1, 0), { topic: 'd', value: null, headers: new Map() }, { ...kib(2, 70_000), key: undefined }]) {
      const real = encodedBatchBytes([m]) - BATCH_HEADER_BYTES;
      assert.ok(recordBytes(m) >= real, `estimate ${recordBytes(m)} < encoded ${real}`);
      assert.ok(recordBytes(m) - real <= 30 + 8 * m.headers.size, 'and not far above it');
    }
  });

  it('cuts 5,000 rejected 1 KiB documents into batches under a 64 KiB max.message.bytes, in order', () => {
    const messages = Array.from({ length: 5000 }, (_, i) => kib(i));
    const limit = 65_536;
    const groups = splitIntoGroups(messages, batchBudget(limit), (m) => m);
    assert.deepEqual(groups.flat(), messages, 'every message once, in order');
    for (const group of groups) assert.ok(encodedBatchBytes(group) <= limit, `a batch of ${encodedBatchBytes(group)} bytes`);
    // Not needlessly small either: each batch but the last is more than 90% full.
    for (const group of groups.slice(0, -1)) assert.ok(encodedBatchBytes(group) > limit * 0.9);
    // The old single request: about 6 MiB, over even the broker default.
    assert.ok(encodedBatchBytes(messages) > BROKER_DEFAULT_MAX_MESSAGE_BYTES);
  });

  it('gives a record larger than the budget a group of its own', () => {
    const messages = [kib(0), kib(1, 100_000), kib(2)];
    assert.deepEqual(
      splitIntoGroups(messages, batchBudget(65_536), (m) => m).map((g) => g.length),
      [1, 1, 1],
    );
    assert.deepEqual(splitIntoGroups([], 1000, (m: TestMessage) => m), []);
  });

  it('truncates a record too large alone: its value keeps the first bytes, a header the original size', () => {
    const limit = 65_536;
    const big = kib(7, 200_000);
    const cut = truncateToFit(big, batchBudget(limit), Buffer.from(DLQ_HEADERS.valueTruncated), Buffer.from(DLQ_HEADERS.reason))!;
    assert.ok(encodedBatchBytes([cut as TestMessage]) <= limit);
    assert.ok(cut.value!.length > 60_000, 'as much of the value as fits');
    assert.ok(big.value!.subarray(0, cut.value!.length).equals(cut.value!));
    const headers = new Map([...cut.headers].map(([k, v]) => [k.toString(), v.toString()]));
    assert.equal(headers.get(DLQ_HEADERS.valueTruncated), '200000');
    assert.equal(headers.get(DLQ_HEADERS.offset), '7', 'the coordinates stay');
    assert.equal(truncateToFit(kib(1), batchBudget(limit), Buffer.from('t'), Buffer.from('r')), undefined, 'a record that fits is left alone');
  });

  it('keeps the first truncation`s size, and shortens the reason when headers alone are too large', () => {
    const truncated = Buffer.from(DLQ_HEADERS.valueTruncated);
    const reason = Buffer.from(DLQ_HEADERS.reason);
    const again = { ...kib(1, 5000), headers: new Map([...kib(1).headers, [truncated, Buffer.from('999999')]]) };
    const cut = truncateToFit(again, 2000, truncated, reason)!;
    assert.equal([...cut.headers].filter(([k]) => k.equals(truncated)).length, 1);
    assert.equal([...cut.headers].find(([k]) => k.equals(truncated))![1].toString(), '999999');
    const wordy = { ...kib(2, 100), headers: header({ [DLQ_HEADERS.reason]: 'r'.repeat(4000), [DLQ_HEADERS.offset]: '2' }) };
    const small = truncateToFit(wordy, 1000, truncated, reason)!;
    assert.ok(recordBytes(small) <= 1000);
    assert.equal(small.value!.length, 0);
    assert.ok([...small.headers].find(([k]) => k.equals(reason))![1].length < 1000);
  });
});

const responseError = (id: string): Error =>
  new MultipleErrors('Producing messages failed.', [new ResponseError(0, 11, { '/responses/0/partition_responses/0': [new ProtocolError(id).apiCode, null] }, {})]);

describe('dead-letter send policy', () => {
  const backoff = { initialDelayMs: 100, maxDelayMs: 10_000 };
  const ctx = { failures: 1, shrinks: 0, now: 1000, deadline: 61_000, backoff, random: () => 1 };

  it('classifies the client`s errors as the broker reports them', () => {
    assert.equal(classifyProduceError(responseError('MESSAGE_TOO_LARGE')), 'too-large');
    assert.equal(classifyProduceError(responseError('RECORD_LIST_TOO_LARGE')), 'too-large');
    for (const id of ['UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'PRODUCER_FENCED']) assert.equal(classifyProduceError(responseError(id)), 'producer-state', id);
    assert.equal(classifyProduceError(new AttemptTimeoutError('no answer')), 'stuck');
    assert.equal(classifyProduceError(new NetworkError('Client is closed.', { closed: true })), 'stuck');
    assert.equal(classifyProduceError(new MultipleErrors('x', [new NetworkError('Request timed out')])), 'stuck');
    assert.equal(classifyProduceError(responseError('NOT_ENOUGH_REPLICAS')), 'other');
    assert.equal(classifyProduceError(responseError('TOPIC_AUTHORIZATION_FAILED')), 'other');
    assert.equal(classifyProduceError(new Error('connect ECONNREFUSED')), 'other');
  });

  it('resends a refused size at once, smaller; gives up shrinking after MAX_SHRINKS', () => {
    assert.deepEqual(nextStep(responseError('MESSAGE_TOO_LARGE'), ctx), { kind: 'retry', delayMs: 0, recreateProducer: false, shrink: true });
    assert.deepEqual(nextStep(responseError('MESSAGE_TOO_LARGE'), { ...ctx, shrinks: MAX_SHRINKS }), { kind: 'retry', delayMs: 100, recreateProducer: false, shrink: false });
  });

  it('replaces the producer after a producer-id or sequence error and after a stuck attempt', () => {
    for (const error of [responseError('UNKNOWN_PRODUCER_ID'), responseError('OUT_OF_ORDER_SEQUENCE_NUMBER'), new AttemptTimeoutError('x')]) {
      const step = nextStep(error, ctx);
      assert.equal(step.kind === 'retry' && step.recreateProducer, true);
    }
    const other = nextStep(responseError('NOT_ENOUGH_REPLICAS'), ctx);
    assert.equal(other.kind === 'retry' && other.recreateProducer, false);
  });

  it('backs off exponentially, never past the deadline, and gives up once it passed', () => {
    const delays = [1, 2, 3, 4, 10].map((failures) => nextStep(new Error('x'), { ...ctx, failures }));
    assert.deepEqual(
      delays.map((s) => (s.kind === 'retry' ? s.delayMs : -1)),
      [100, 200, 400, 800, 10_000],
    );
    const late = nextStep(new Error('x'), { ...ctx, failures: 10, now: 60_500 });
    assert.equal(late.kind === 'retry' && late.delayMs, 500);
    assert.deepEqual(nextStep(new Error('x'), { ...ctx, now: 61_000 }), { kind: 'give-up' });
    assert.deepEqual(nextStep(responseError('MESSAGE_TOO_LARGE'), { ...ctx, now: 70_000 }), { kind: 'give-up' });
  });
});

describe('dead-letter topic limits', () => {
  it('reads a topic`s limit once, again after forget, and assumes the broker default for a while when it cannot', async () => {
    let now = 0;
    const reads: string[] = [];
    let fail = false;
    const limits = new TopicLimits(
      async (topic) => {
        reads.push(topic);
        if (fail) throw new Error('TOPIC_AUTHORIZATION_FAILED');
        return 65_536;
      },
      logger,
      () => now,
    );
    assert.deepEqual(await Promise.all([limits.limit('a'), limits.limit('a')]), [65_536, 65_536]);
    assert.equal(await limits.limit('a'), 65_536);
    assert.deepEqual(reads, ['a'], 'one read, shared by concurrent callers');
    limits.forget('a');
    fail = true;
    assert.equal(await limits.limit('a'), BROKER_DEFAULT_MAX_MESSAGE_BYTES);
    assert.equal(await limits.limit('a'), BROKER_DEFAULT_MAX_MESSAGE_BYTES);
    assert.equal(reads.length, 2, 'the fallback is kept for a while');
    fail = false;
    now += 61_000;
    assert.equal(await limits.limit('a'), 65_536);
  });
});

// The broker's side of a produce request, as a script: resolve (written), reject, or never answer.
type Script = (messages: readonly TestMessage[], producer: ScriptedProducer) => Promise<unknown>;

class ScriptedProducer {
  readonly sends: TestMessage[][] = [];
  closed = false;
  constructor(
    readonly id: number,
    private readonly script: Script,
  ) {}
  async send({ messages }: { messages: TestMessage[] }): Promise<unknown> {
    this.sends.push(messages);
    return this.script(messages, this);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function scripted(script: Script, limit = 65_536): { clients: DeadLetterClients; producers: ScriptedProducer[]; limitReads: () => number } {
  const producers: ScriptedProducer[] = [];
  let reads = 0;
  return {
    producers,
    limitReads: () => reads,
    clients: {
      producer: () => {
        const p = new ScriptedProducer(producers.length, script);
        producers.push(p);
        return p as unknown as Producer;
      },
      describeLimit: async () => {
        reads++;
        return limit;
      },
      close: async () => {},
    },
  };
}

const sourceRecord = (offset: number, size = 1024, topic = 't'): SourceRecord => ({
  topic,
  partition: 0,
  offset: BigInt(offset),
  timestamp: 1_700_000_000_000n,
  key: Buffer.from(`k${offset}`),
  value: Buffer.alloc(size, 'v'),
  headers: new Map(),
});
const deadLetters = (count: number, size = 1024, topic = 't'): DeadLetter[] =>
  Array.from({ length: count }, (_, i) => ({ record: sourceRecord(i, size, topic), failure: { errorClass: 'rejected', errorType: 'strict_dynamic_mapping_exception', reason: 'strict' } }));

function queue(clients: DeadLetterClients, flags: string[] = [], stop = new AbortController().signal) {
  const config = loadConfig({ env: { K2E_TOPICS: 't', K2E_INDEX: 'i' }, flags: ['--retry.initialDelayMs=1', '--retry.maxDelayMs=20', ...flags] });
  const events = { failedAttempts: 0, unavailable: [] as boolean[] };
  const dlq = new DeadLetterQueue(config, logger, stop, { onFailedAttempt: () => events.failedAttempts++, onUnavailable: (u) => events.unavailable.push(u) }, clients);
  return { dlq, events };
}

const offsetsOf = (sends: readonly TestMessage[][]): string[] => sends.flat().map((m) => new Map([...m.headers].map(([k, v]) => [k.toString(), v.toString()])).get(DLQ_HEADERS.offset)!);

describe('DeadLetterQueue', () => {
  it('sends 5,000 dead letters as requests under the topic`s limit, all of them, in order', async () => {
    const { clients, producers } = scripted(async (messages) => assert.ok(encodedBatchBytes(messages) <= 65_536));
    const { dlq } = queue(clients);
    await dlq.send(deadLetters(5000));
    const sends = producers[0]!.sends;
    for (const request of sends.slice(0, -1)) assert.ok(encodedBatchBytes(request) > 65_536 * 0.9, 'each request but the last nearly full');
    assert.deepEqual(offsetsOf(sends), Array.from({ length: 5000 }, (_, i) => String(i)));
    assert.equal(sends[0]![0]!.topic, 't.dlq');
  });

  it('resends smaller when the broker refuses the size, reading the limit again', async () => {
    // The topic's limit was lowered after it was read: the broker takes 16 KiB batches only.
    const { clients, producers, limitReads } = scripted(async (messages) => {
      if (encodedBatchBytes(messages) > 16_384) throw responseError('MESSAGE_TOO_LARGE');
    });
    const { dlq, events } = queue(clients);
    await dlq.send(deadLetters(200));
    assert.deepEqual(offsetsOf(producers[0]!.sends.slice(2)), Array.from({ length: 200 }, (_, i) => String(i)), 'all written once, in order');
    assert.equal(limitReads(), 3, 'read at first, and after each of the two refusals');
    assert.equal(events.failedAttempts, 2);
  });

  it('sends a record too large even alone with its value truncated', async () => {
    const { clients, producers } = scripted(async (messages) => assert.ok(encodedBatchBytes(messages) <= 65_536));
    const { dlq } = queue(clients);
    await dlq.send([...deadLetters(1), { ...deadLetters(2, 300_000)[1]! }]);
    const sent = producers[0]!.sends.flat();
    assert.equal(sent.length, 2);
    const big = new Map([...sent[1]!.headers].map(([k, v]) => [k.toString(), v.toString()]));
    assert.equal(big.get(DLQ_HEADERS.valueTruncated), '300000');
    assert.equal(big.get(DLQ_HEADERS.offset), '1');
    assert.ok(sent[1]!.value!.length > 60_000 && sent[1]!.value!.length < 65_536);
  });

  it('replaces the producer after UNKNOWN_PRODUCER_ID and carries on with the new one', async () => {
    const { clients, producers } = scripted(async (_messages, producer) => {
      if (producer.id === 0) throw responseError('UNKNOWN_PRODUCER_ID');
    });
    const { dlq } = queue(clients);
    await dlq.send(deadLetters(3));
    assert.equal(producers.length, 2);
    assert.equal(producers[0]!.closed, true);
    assert.deepEqual(offsetsOf(producers[1]!.sends), ['0', '1', '2']);
  });

  it('replaces a producer that does not answer within the attempt`s bound', async () => {
    const { clients, producers } = scripted((_messages, producer) => (producer.id === 0 ? new Promise(() => undefined) : Promise.resolve()));
    const { dlq } = queue(clients, ['--errors.dlqTimeoutMs=1200']);
    const started = Date.now();
    await dlq.send(deadLetters(3));
    assert.ok(Date.now() - started < 3000);
    assert.equal(producers.length, 2);
    assert.deepEqual(offsetsOf(producers[1]!.sends), ['0', '1', '2']);
  });

  it('gives up after errors.dlqTimeoutMs with a typed error and reports unavailable until a send succeeds', async () => {
    let refuse = true;
    const { clients } = scripted(async () => {
      if (refuse) throw responseError('NOT_ENOUGH_REPLICAS');
    });
    const { dlq, events } = queue(clients, ['--errors.dlqTimeoutMs=200']);
    const started = Date.now();
    await assert.rejects(dlq.send(deadLetters(2)), (error: Error) => error instanceof DeadLetterUnavailableError && /t\.dlq did not acknowledge 2 record\(s\).*NOT_ENOUGH_REPLICAS/.test(error.message));
    assert.ok(Date.now() - started >= 200 && Date.now() - started < 1500);
    assert.ok(events.failedAttempts > 2);
    assert.equal(dlq.state.state, 'unavailable');
    assert.match(dlq.state.lastError!, /NOT_ENOUGH_REPLICAS/);
    refuse = false;
    await dlq.send(deadLetters(2));
    assert.equal(dlq.state.state, 'ok');
    assert.deepEqual(events.unavailable, [true, false]);
  });

  it('counts a give-up only until it is too old to stand for a partition still waiting', () => {
    const marks = [
      { error: 'UNKNOWN_TOPIC_OR_PARTITION', at: 1000 },
      { error: 'NOT_ENOUGH_REPLICAS', at: 5000 },
    ];
    assert.deepEqual(stateOf(marks, 0), { state: 'unavailable', lastError: 'NOT_ENOUGH_REPLICAS', lastErrorAt: 5000 });
    assert.deepEqual(stateOf(marks, 2000), { state: 'unavailable', lastError: 'NOT_ENOUGH_REPLICAS', lastErrorAt: 5000 });
    assert.deepEqual(stateOf(marks, 5000), { state: 'ok', lastError: null, lastErrorAt: null });
    assert.equal(stateOf([], 0).state, 'ok');
  });

  it('does not send again what was acknowledged before it gave up', async () => {
    let calls = 0;
    const { clients, producers } = scripted(async () => {
      if (++calls > 1 && calls < 1000) throw new Error('broker gone');
    });
    const { dlq } = queue(clients, ['--errors.dlqTimeoutMs=100']);
    const letters = deadLetters(100);
    await assert.rejects(dlq.send(letters), DeadLetterUnavailableError);
    const sends = producers[0]!.sends;
    const first = sends[0]!;
    assert.ok(first.length > 0 && first.length < 100);
    const before = sends.length;
    calls = 1000;
    await dlq.send(letters);
    const again = sends.slice(before);
    assert.deepEqual(offsetsOf([first, ...again]), Array.from({ length: 100 }, (_, i) => String(i)), 'only the rest the second time');
  });

  it('abandons a send when its signal aborts, or when the service stops', async () => {
    const { clients } = scripted(() => new Promise(() => undefined));
    const stop = new AbortController();
    const { dlq } = queue(clients, [], stop.signal);
    const caller = new AbortController();
    const sending = dlq.send(deadLetters(1), caller.signal);
    await sleep(20);
    caller.abort();
    await assert.rejects(sending, DeadLetterAbandonedError);
    const other = dlq.send(deadLetters(1));
    await sleep(20);
    stop.abort();
    await assert.rejects(other, DeadLetterAbandonedError);
  });

  it('lets a send go through while another one is stuck', async () => {
    const { clients } = scripted((messages) => (messages[0]!.topic === 'stuck.dlq' ? new Promise(() => undefined) : Promise.resolve()));
    const { dlq } = queue(clients);
    const caller = new AbortController();
    const stuck = dlq.send(deadLetters(1, 10, 'stuck'), caller.signal);
    stuck.catch(() => undefined);
    await dlq.send(deadLetters(5, 10, 'fine'));
    caller.abort();
    await assert.rejects(stuck, DeadLetterAbandonedError);
  });
});

describe('a truncated dead letter, re-driven', () => {
  it('is a decode failure (value_truncated), never indexed from its first bytes', async () => {
    const { recordDecoders } = await import('../../src/transform/topic-plan.js');
    for (const format of ['json', 'string']) {
      const config = loadConfig({ env: { K2E_TOPICS: 't', K2E_INDEX: 'i' }, flags: [`--decode.format=${format}`] });
      const decoders = recordDecoders(config, logger, new AbortController().signal);
      const record = { ...sourceRecord(1, 100), value: Buffer.from('{"n":1}'), headers: new Map([[DLQ_HEADERS.valueTruncated, Buffer.from('300000')]]) };
      const decoded = decoders.decodeRecordSync(record);
      assert.deepEqual(decoded?.value && { ok: decoded.value.ok, errorType: (decoded.value as { errorType?: string }).errorType }, { ok: false, errorType: 'value_truncated' }, format);
      const whole = decoders.decodeRecordSync({ ...record, headers: new Map() });
      assert.notEqual((whole?.value as { ok?: boolean } | undefined)?.ok, false, `${format}: without the header it decodes`);
    }
  });
});
