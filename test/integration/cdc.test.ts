// Change data capture (decode.envelope: debezium) on every engine, with records shaped exactly like
// Debezium's MySQL connector writes them: the JSON converter with schemas (schema + payload, key and
// value) and the Avro converter (Confluent framing, schemas in the registry). Snapshot reads and
// creates write the row, updates rewrite it, a delete removes the document and the tombstone that
// follows it is acknowledged without a write.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import avro from 'avsc';
import { confluentAvro, registerSchema } from '../../src/cli/demo-produce.js';
import { createTopic, produce, type ProducedMessage, untilCommittedToEnd } from '../helpers/kafka.js';
import { dropIndices } from '../helpers/records.js';
import { allDocuments } from '../helpers/search.js';
import { startService } from '../helpers/service.js';
import { brokers, stack, uniqueName } from '../helpers/stack.js';

const registry = (stack as typeof stack & { registry?: string }).registry;

interface Row {
  id: number;
  first_name: string;
  last_name: string;
  email: string;
}

/** One change: the op and the row images, as the connector sees them. */
interface Change {
  op: 'r' | 'c' | 'u' | 'd';
  before: Row | null;
  after: Row | null;
}

const sally: Row = { id: 1001, first_name: 'Sally', last_name: 'Thomas', email: 'sally.thomas@acme.com' };
const george: Row = { id: 1002, first_name: 'George', last_name: 'Bailey', email: 'gbailey@foobar.com' };
const edward: Row = { id: 1003, first_name: 'Edward', last_name: 'Walker', email: 'ed@walker.com' };
const anne: Row = { id: 1004, first_name: 'Anne', last_name: 'Kretchmar', email: 'annek@noanswer.org' };
const georgeMoved = { ...george, email: 'george@bailey.example' };

/** Snapshot of three rows, an update, a delete (then its tombstone), an insert. */
const CHANGES: Change[] = [
  { op: 'r', before: null, after: sally },
  { op: 'r', before: null, after: george },
  { op: 'r', before: null, after: edward },
  { op: 'u', before: george, after: georgeMoved },
  { op: 'd', before: edward, after: null },
  { op: 'c', before: null, after: anne },
];

const source = (i: number, snapshot: boolean) => ({
  version: '2.7.3.Final',
  connector: 'mysql',
  name: 'dbserver1',
  ts_ms: 1_767_225_600_000 + i,
  snapshot: snapshot ? 'true' : 'false',
  db: 'inventory',
  sequence: null,
  table: 'customers',
  server_id: snapshot ? 0 : 223344,
  gtid: null,
  file: 'mysql-bin.000003',
  pos: 154 + i * 100,
  row: 0,
  thread: snapshot ? null : 7,
  query: null,
});

// ---- The JSON converter with schemas.enable=true ----

const rowSchema = (field: string) => ({
  type: 'struct',
  fields: [
    { type: 'int32', optional: false, field: 'id' },
    { type: 'string', optional: false, field: 'first_name' },
    { type: 'string', optional: false, field: 'last_name' },
    { type: 'string', optional: false, field: 'email' },
  ],
  optional: true,
  name: 'dbserver1.inventory.customers.Value',
  field,
});
const sourceSchema = {
  type: 'struct',
  fields: [
    { type: 'string', optional: false, field: 'version' },
    { type: 'string', optional: false, field: 'connector' },
    { type: 'string', optional: false, field: 'name' },
    { type: 'int64', optional: false, field: 'ts_ms' },
    { type: 'string', optional: true, name: 'io.debezium.data.Enum', version: 1, parameters: { allowed: 'true,last,false,incremental' }, default: 'false', field: 'snapshot' },
    { type: 'string', optional: false, field: 'db' },
    { type: 'string', optional: true, field: 'sequence' },
    { type: 'string', optional: true, field: 'table' },
    { type: 'int64', optional: false, field: 'server_id' },
    { type: 'string', optional: true, field: 'gtid' },
    { type: 'string', optional: false, field: 'file' },
    { type: 'int64', optional: false, field: 'pos' },
    { type: 'int32', optional: false, field: 'row' },
    { type: 'int64', optional: true, field: 'thread' },
    { type: 'string', optional: true, field: 'query' },
  ],
  optional: false,
  name: 'io.debezium.connector.mysql.Source',
  field: 'source',
};
const envelopeSchema = {
  type: 'struct',
  fields: [
    rowSchema('before'),
    rowSchema('after'),
    sourceSchema,
    { type: 'string', optional: false, field: 'op' },
    { type: 'int64', optional: true, field: 'ts_ms' },
    {
      type: 'struct',
      fields: [
        { type: 'string', optional: false, field: 'id' },
        { type: 'int64', optional: false, field: 'total_order' },
        { type: 'int64', optional: false, field: 'data_collection_order' },
      ],
      optional: true,
      name: 'event.block',
      version: 1,
      field: 'transaction',
    },
  ],
  optional: false,
  name: 'dbserver1.inventory.customers.Envelope',
  version: 1,
};
const keySchema = { type: 'struct', fields: [{ type: 'int32', optional: false, field: 'id' }], optional: false, name: 'dbserver1.inventory.customers.Key' };

function jsonRecords(): ProducedMessage[] {
  const records: ProducedMessage[] = [];
  CHANGES.forEach((change, i) => {
    const id = (change.after ?? change.before)!.id;
    const key = JSON.stringify({ schema: keySchema, payload: { id } });
    const payload = { before: change.before, after: change.after, source: source(i, change.op === 'r'), op: change.op, ts_ms: 1_767_225_600_500 + i, transaction: null };
    records.push({ key, value: JSON.stringify({ schema: envelopeSchema, payload }) });
    // Debezium follows a delete with a tombstone (for log compaction).
    if (change.op === 'd') records.push({ key, value: null });
  });
  return records;
}

// ---- The Avro converter ----

const avroRow = { type: 'record', name: 'Value', namespace: 'dbserver1.inventory.customers', fields: [
  { name: 'id', type: 'int' },
  { name: 'first_name', type: 'string' },
  { name: 'last_name', type: 'string' },
  { name: 'email', type: 'string' },
], 'connect.name': 'dbserver1.inventory.customers.Value' };
const avroSource = { type: 'record', name: 'Source', namespace: 'io.debezium.connector.mysql', fields: [
  { name: 'version', type: 'string' },
  { name: 'connector', type: 'string' },
  { name: 'name', type: 'string' },
  { name: 'ts_ms', type: 'long' },
  { name: 'snapshot', type: [{ type: 'string', 'connect.version': 1, 'connect.parameters': { allowed: 'true,last,false,incremental' }, 'connect.default': 'false', 'connect.name': 'io.debezium.data.Enum' }, 'null'], default: 'false' },
  { name: 'db', type: 'string' },
  { name: 'sequence', type: ['null', 'string'], default: null },
  { name: 'table', type: ['null', 'string'], default: null },
  { name: 'server_id', type: 'long' },
  { name: 'gtid', type: ['null', 'string'], default: null },
  { name: 'file', type: 'string' },
  { name: 'pos', type: 'long' },
  { name: 'row', type: 'int' },
  { name: 'thread', type: ['null', 'long'], default: null },
  { name: 'query', type: ['null', 'string'], default: null },
], 'connect.name': 'io.debezium.connector.mysql.Source' };
const avroEnvelope = { type: 'record', name: 'Envelope', namespace: 'dbserver1.inventory.customers', fields: [
  { name: 'before', type: ['null', avroRow], default: null },
  { name: 'after', type: ['null', 'Value'], default: null },
  { name: 'source', type: avroSource },
  { name: 'op', type: 'string' },
  { name: 'ts_ms', type: ['null', 'long'], default: null },
  { name: 'transaction', type: ['null', { type: 'record', name: 'block', namespace: 'event', fields: [
    { name: 'id', type: 'string' },
    { name: 'total_order', type: 'long' },
    { name: 'data_collection_order', type: 'long' },
  ], 'connect.version': 1, 'connect.name': 'event.block' }], default: null },
], 'connect.version': 1, 'connect.name': 'dbserver1.inventory.customers.Envelope' };
const avroKey = { type: 'record', name: 'Key', namespace: 'dbserver1.inventory.customers', fields: [{ name: 'id', type: 'int' }], 'connect.name': 'dbserver1.inventory.customers.Key' };

async function avroRecords(topic: string): Promise<ProducedMessage[]> {
  const keyId = await registerSchema(registry!, `${topic}-key`, JSON.stringify(avroKey));
  const valueId = await registerSchema(registry!, `${topic}-value`, JSON.stringify(avroEnvelope));
  const keyType = avro.Type.forSchema(avroKey as avro.Schema);
  const valueType = avro.Type.forSchema(avroEnvelope as avro.Schema);
  const records: ProducedMessage[] = [];
  CHANGES.forEach((change, i) => {
    const key = confluentAvro(keyId, keyType, { id: (change.after ?? change.before)!.id });
    const payload = { before: change.before, after: change.after, source: source(i, change.op === 'r'), op: change.op, ts_ms: 1_767_225_600_500 + i, transaction: null };
    records.push({ key, value: confluentAvro(valueId, valueType, payload) });
    if (change.op === 'd') records.push({ key, value: null });
  });
  return records;
}

async function runCdc(engineUrl: string, topic: string, records: ProducedMessage[], flags: string[]): Promise<Map<string, Record<string, unknown>>> {
  const groupId = uniqueName('cdc-group');
  await createTopic(topic, 1);
  await produce(topic, records);
  const service = startService(
    { K2E_BROKERS: brokers, K2E_TOPICS: topic, K2E_GROUP_ID: groupId, K2E_ELASTIC_URL: engineUrl, K2E_INDEX: topic },
    ['--decode.envelope=debezium', ...flags],
  );
  try {
    assert.ok(await service.consuming(), service.output());
    assert.ok(await untilCommittedToEnd(groupId, topic, 60_000), service.output().slice(-3000));
    const status = await service.status();
    assert.equal(status?.deadLettered, 0, service.output().slice(-3000));
  } finally {
    assert.equal(await service.stop(), 0, service.output().slice(-3000));
  }
  return allDocuments(engineUrl, topic);
}

const expected = new Map<string, Row>([
  ['1001', sally],
  ['1002', georgeMoved],
  ['1004', anne],
]);

for (const engine of stack.engines) {
  describe(`Debezium change events on ${engine.name}`, () => {
    it('JSON with schema and payload: rows written and rewritten, the deleted row removed, its tombstone ignored', async () => {
      const topic = uniqueName('cdc-json');
      const docs = await runCdc(engine.url, topic, jsonRecords(), []);
      assert.deepEqual(docs, expected);
      await dropIndices(engine.url, topic);
    });

    it('Avro from the registry: the same outcome, the id from the Avro key', { skip: registry ? false : 'the stack runs no schema registry' }, async () => {
      const topic = uniqueName('cdc-avro');
      const docs = await runCdc(engine.url, topic, await avroRecords(topic), ['--decode.format=avro', '--document.keyFormat=avro', `--schemaRegistry.url=${registry}`]);
      assert.deepEqual(docs, expected);
      await dropIndices(engine.url, topic);
    });
  });
}
