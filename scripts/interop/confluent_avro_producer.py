"""Produces the course's TwitterAvroModel tweets with Confluent's own AvroSerializer and schema
registry client: records written by another implementation than ours, for the interop test.

  python confluent_avro_producer.py --brokers 127.0.0.1:9092 \
      --registry http://127.0.0.1:8081/apis/ccompat/v7 --topic tweets --count 50

Keys are the tweet id as a string; ids are 1000 + i.
"""
import argparse
import json
import pathlib
import time

from confluent_kafka import SerializingProducer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import StringSerializer

SCHEMA = (pathlib.Path(__file__).resolve().parents[2] / "examples" / "twitter" / "twitter-avro-model.avsc").read_text()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, default=10)
    args = parser.parse_args()

    registry = SchemaRegistryClient({"url": args.registry})
    producer = SerializingProducer({
        "bootstrap.servers": args.brokers,
        "key.serializer": StringSerializer("utf_8"),
        "value.serializer": AvroSerializer(registry, SCHEMA, conf={"auto.register.schemas": True}),
        "enable.idempotence": True,
    })
    delivered = []
    for i in range(args.count):
        tweet = {"userId": i % 7, "id": 1000 + i, "text": f"tweet number {i} from python", "createdAt": int(time.time() * 1000)}
        producer.produce(args.topic, key=str(tweet["id"]), value=tweet,
                         on_delivery=lambda err, msg: delivered.append(msg) if err is None else print("error", err))
    producer.flush(30)
    print(json.dumps({"delivered": len(delivered)}))
    if len(delivered) != args.count:
        raise SystemExit(f"only {len(delivered)} of {args.count} delivered")


if __name__ == "__main__":
    main()
