// Connection settings shared by every Kafka client the service creates (consumer, admin, producer):
// brokers, client id, and optional TLS / SASL from the configuration.
import type { Config } from '../config/schema.js';

export function kafkaClientOptions(kafka: Config['kafka'], clientIdSuffix = '') {
  return {
    clientId: `${kafka.clientId}${clientIdSuffix}`,
    bootstrapBrokers: kafka.brokers,
    ...(kafka.tls ? { tls: {} } : {}),
    ...(kafka.sasl ? { sasl: { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username, password: kafka.sasl.password } } : {}),
  };
}
