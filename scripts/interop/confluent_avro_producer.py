"""Produces the course's TwitterAvroModel tweets with Confluent's own AvroSerializer and schema
registry client: records written by another implementation than ours, for the interop test.

  python confluent_avro_producer.py --brokers 127.0.0.1:9092 \
      --registry http://127.0.0.1:8081/apis/ccompat/v7 --topic tweets --count 50 \
      [--schema-version 1|2] [--create-topic PARTITIONS]

Keys are the tweet id as a string. Version 1 (the course's schema) writes ids 1000 + i; version 2
adds an optional `lang` (["null","string"], default null: a BACKWARD-compatible evolution) and
writes ids 2000 + i, with lang "en" on even i and null on odd i. The schema is registered as
<topic>-value (auto.register.schemas). The broker does not create topics on demand:
--create-topic P creates the topic with P partitions first (an existing topic is fine).
Prints {"delivered": N} and exits non-zero unless all N were delivered.
"""
import argparse
import copy
import json
import pathlib
import time

from confluent_kafka import KafkaException, SerializingProducer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.error import KafkaError
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import StringSerializer

SCHEMA_V1 = json.loads((pathlib.Path(__file__).resolve().parents[2] / "examples" / "twitter" / "twitter-avro-model.avsc").read_text())


def schema(version: int) -> str:
    if version == 1:
        return json.dumps(SCHEMA_V1)
    v2 = copy.deepcopy(SCHEMA_V1)
    v2["fields"].append({"name": "lang", "type": ["null", "string"], "default": None})
    return json.dumps(v2)


def tweet(version: int, i: int) -> dict:
    value = {"userId": i % 7, "id": (1000 if version == 1 else 2000) + i, "text": f"tweet number {i} from python", "createdAt": int(time.time() * 1000)}
    if version == 2:
        value["lang"] = "en" if i % 2 == 0 else None
    return value


def create_topic(brokers: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": brokers})
    future = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)], operation_timeout=30)[topic]
    try:
        future.result(timeout=60)
    except KafkaException as error:
        if error.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--registry", required=True, help="Confluent-compatible API, e.g. http://127.0.0.1:8081/apis/ccompat/v7")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--schema-version", type=int, choices=(1, 2), default=1)
    parser.add_argument("--create-topic", type=int, metavar="PARTITIONS", help="create the topic first (ok when it exists)")
    args = parser.parse_args()

    if args.create_topic is not None:
        create_topic(args.brokers, args.topic, args.create_topic)
    registry = SchemaRegistryClient({"url": args.registry})
    producer = SerializingProducer({
        "bootstrap.servers": args.brokers,
        "key.serializer": StringSerializer("utf_8"),
        "value.serializer": AvroSerializer(registry, schema(args.schema_version), conf={"auto.register.schemas": True}),
        "enable.idempotence": True,
        "message.timeout.ms": 30000,
    })
    metadata = producer.list_topics(args.topic, timeout=15).topics.get(args.topic)
    if metadata is None or metadata.error is not None:
        raise SystemExit(f"topic {args.topic} not found ({metadata.error if metadata else 'no metadata'}); the broker does not create topics on demand: pass --create-topic PARTITIONS")
    delivered = []
    errors = []

    def on_delivery(err, msg):
        (errors if err is not None else delivered).append(err or msg)

    for i in range(args.count):
        value = tweet(args.schema_version, i)
        while True:
            try:
                producer.produce(args.topic, key=str(value["id"]), value=value, on_delivery=on_delivery)
                break
            except BufferError:  # local queue full: serve delivery reports, then retry
                producer.poll(1)
        producer.poll(0)
    producer.flush(60)
    print(json.dumps({"delivered": len(delivered)}))
    if len(delivered) != args.count:
        raise SystemExit(f"only {len(delivered)} of {args.count} delivered; first error: {errors[0] if errors else 'timeout'}")


if __name__ == "__main__":
    main()
