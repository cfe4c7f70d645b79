// The `kafka-to-elastic` command line: run | status | lag | config check.
import { ConfigError, configFromEnv } from '../config/env.js';
import { runService } from './run.js';

const USAGE = `usage: kafka-to-elastic <command>
  run            consume the configured topics and index them (until SIGTERM/SIGINT)
  status         print the running service's /status (http://127.0.0.1:$K2E_HTTP_PORT)
  config check   validate the configuration and print the effective values
configuration (environment):
  K2E_BROKERS      Kafka bootstrap brokers, comma-separated (default 127.0.0.1:9092)
  K2E_TOPICS       topics to consume, comma-separated (required)
  K2E_GROUP_ID     consumer group id (default kafka-to-elastic)
  K2E_ELASTIC_URL  Elasticsearch/OpenSearch URL (default http://127.0.0.1:9200)
  K2E_INDEX        target index (required)
  K2E_HTTP_PORT    port of /health, /ready, /status (default 8080)
  K2E_LOG_LEVEL    fatal|error|warn|info|debug|trace (default info)`;

export async function main(argv: string[]): Promise<number> {
  const [command, sub] = argv;
  try {
    switch (command) {
      case 'run':
        return await runService(configFromEnv());
      case 'config':
        if (sub !== 'check') break;
        console.log(JSON.stringify(configFromEnv(), null, 2));
        return 0;
      case 'status': {
        const port = process.env.K2E_HTTP_PORT ?? '8080';
        const response = await fetch(`http://127.0.0.1:${port}/status`).catch(() => undefined);
        if (!response) {
          console.error(`no service answers on http://127.0.0.1:${port}/status`);
          return 1;
        }
        console.log(JSON.stringify(await response.json(), null, 2));
        return 0;
      }
      case undefined:
      case '--help':
      case 'help':
        console.log(USAGE);
        return 0;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  console.error(USAGE);
  return 2;
}
