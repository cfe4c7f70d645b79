// Health probes for the stack's servers: a Kafka metadata round trip and a search engine's
// `GET /` + cluster health, each with a short timeout so `up`/`status` never hang.
import { Admin } from '@platformatic/kafka';

/** The broker answers a metadata request; with a node id, that metadata lists the node (registered, unfenced). */
export async function kafkaHealthy(broker: string, nodeId?: number): Promise<boolean> {
  const admin = new Admin({ clientId: 'k2e-stack-probe', bootstrapBrokers: [broker], timeout: 2000, retries: 0 });
  try {
    const metadata = await admin.metadata({ topics: [] });
    return nodeId === undefined ? metadata.brokers.size > 0 : metadata.brokers.has(nodeId);
  } catch {
    return false;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

export interface EngineInfo {
  distribution: 'elasticsearch' | 'opensearch';
  version: string;
  status: string;
}

/** Returns the engine's product, version and cluster status, or undefined when it does not answer. */
export async function engineInfo(url: string): Promise<EngineInfo | undefined> {
  try {
    const root = (await (await fetch(url, { signal: AbortSignal.timeout(2000) })).json()) as {
      version?: { number?: string; distribution?: string };
    };
    const health = (await (await fetch(new URL('/_cluster/health', url), { signal: AbortSignal.timeout(2000) })).json()) as {
      status?: string;
    };
    return {
      distribution: root.version?.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch',
      version: root.version?.number ?? 'unknown',
      status: health.status ?? 'unknown',
    };
  } catch {
    return undefined;
  }
}
