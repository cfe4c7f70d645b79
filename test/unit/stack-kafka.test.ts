import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kafkaNodeName, kafkaNodePorts, kafkaServerProperties, kafkaSizeMismatch } from '../../scripts/stack/kafka.js';
import { readLayout } from '../../scripts/stack/layout.js';

const layout = { ...readLayout(), home: '/tmp/k2e-unit-stack', kafkaPort: 19092, kafkaControllerPort: 19093 };
const property = (text: string, key: string): string | undefined => text.split('\n').find((l) => l.startsWith(`${key}=`))?.slice(key.length + 1);

describe('npm run stack: Kafka nodes', () => {
  it("node N is node 1's ports plus 10·(N-1), every listener included", () => {
    assert.deepEqual(kafkaNodePorts(layout, 1), { plain: 19092, sasl: 19094, ssl: 19095, mtls: 19096, saslSsl: 19097, oauthbearer: 19098, controller: 19093 });
    assert.deepEqual(kafkaNodePorts(layout, 3), { plain: 19112, sasl: 19114, ssl: 19115, mtls: 19116, saslSsl: 19117, oauthbearer: 19118, controller: 19113 });
    assert.deepEqual([kafkaNodeName(1, 1), kafkaNodeName(1, 3), kafkaNodeName(3, 3)], ['kafka', 'kafka-1', 'kafka-3']);
  });

  it('a single broker keeps one copy; three nodes form a three-voter quorum replicating 3 ways, 2 in sync', () => {
    const single = kafkaServerProperties(layout, 1, 1, '/data');
    assert.equal(property(single, 'controller.quorum.voters'), '1@127.0.0.1:19093');
    for (const key of ['default.replication.factor', 'offsets.topic.replication.factor', 'transaction.state.log.replication.factor', 'min.insync.replicas', 'transaction.state.log.min.isr']) {
      assert.equal(property(single, key), '1', key);
    }
    const second = kafkaServerProperties(layout, 2, 3, '/data-2');
    assert.equal(property(second, 'node.id'), '2');
    assert.equal(property(second, 'controller.quorum.voters'), '1@127.0.0.1:19093,2@127.0.0.1:19103,3@127.0.0.1:19113');
    assert.match(property(second, 'listeners')!, /^PLAINTEXT:\/\/127\.0\.0\.1:19102,SASL_PLAINTEXT:\/\/127\.0\.0\.1:19104,CONTROLLER:\/\/127\.0\.0\.1:19103,/);
    assert.equal(property(second, 'log.dirs'), '/data-2');
    for (const [key, value] of Object.entries({ 'default.replication.factor': '3', 'offsets.topic.replication.factor': '3', 'transaction.state.log.replication.factor': '3', 'min.insync.replicas': '2', 'transaction.state.log.min.isr': '2' })) {
      assert.equal(property(second, key), value, key);
    }
  });

  it('says how to change the broker count', () => {
    assert.match(kafkaSizeMismatch(1, 3, true), /^the running stack has 1 Kafka broker, not 3: .*down --wipe.*up --brokers 3/);
    assert.match(kafkaSizeMismatch(3, 1, false), /^the stack's Kafka data was formatted for 3 Kafka brokers, not 1/);
  });
});
