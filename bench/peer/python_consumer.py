"""The reference peer of `npm run bench`: the Kafka-to-search-engine consumer a team would write by
hand (issue 12), with stock clients and their defaults. confluent-kafka (librdkafka) consumes batches
of 5,000 records across all partitions; opensearch-py's parallel_bulk indexes each batch with 2 threads
(2 bulk requests of 2,500 at once), the value as the string it arrived as, the key as _id; the offsets
are committed after each batch. opensearch-py also talks to Elasticsearch 9 (it has no product check).

  python python_consumer.py --brokers B --topic T --group G --url U --index I [--count N]

Runs until stopped (SIGTERM/SIGINT close the consumer), or until N records are indexed. For the benchmark, one JSON line per batch once its
bulks are acknowledged: {"t": monotonic s, "indexed": records so far, "cpu": process CPU s, "rss": peak
RSS bytes}.
"""
import argparse
import json
import resource
import signal
import sys
import time

from confluent_kafka import Consumer, KafkaException
from opensearchpy import OpenSearch, helpers

BATCH = 5000  # records per consume() call, from all partitions; one commit per batch
THREADS = 2  # parallel_bulk threads: each batch goes as THREADS bulk requests at once

args = argparse.ArgumentParser()
for name in ("brokers", "topic", "group", "url", "index"):
    args.add_argument(f"--{name}", required=True)
args.add_argument("--count", type=int, default=0)
args = args.parse_args()

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # leave the group on the way out (finally)
consumer = Consumer({"bootstrap.servers": args.brokers, "group.id": args.group, "enable.auto.commit": False, "auto.offset.reset": "earliest"})
consumer.subscribe([args.topic])
client = OpenSearch(args.url)
indexed = 0
try:
    while not args.count or indexed < args.count:
        messages = consumer.consume(num_messages=BATCH, timeout=1.0)
        if not messages:
            continue
        for m in messages:
            if m.error():
                raise KafkaException(m.error())
        actions = ({"_index": args.index, "_id": m.key().decode(), "_source": m.value().decode()} for m in messages)
        for ok, item in helpers.parallel_bulk(client, actions, thread_count=THREADS, chunk_size=BATCH // THREADS):
            pass  # raise_on_error (the default) raises on the first failed item
        indexed += len(messages)
        print(json.dumps({"t": time.monotonic(), "indexed": indexed, "cpu": time.process_time(), "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}), flush=True)
        consumer.commit(asynchronous=False)
finally:
    consumer.close()
