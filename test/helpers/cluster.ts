// A three-broker KRaft cluster of its own for the cluster tests (rolling restarts, leader moves, a
// coordinator killed), beside the stack the other tests share: `npm run stack -- up --brokers 3` under
// <STACK_HOME>/cluster on ports 19092+ (no engine, no registry; the tests index into the shared stack's
// engine). Started by the first test that needs it, stopped (data wiped) by `stopCluster`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Admin } from '@platformatic/kafka';
import { repoRoot, readLayout } from '../../scripts/stack/layout.js';
import { runJava } from './kafka-tools.js';

export interface Cluster {
  /** Every broker, comma-separated. */
  bootstrap: string;
  nodes: { id: number; name: string; address: string }[];
  /** stop (graceful), start, or kill -9 one node (`kafka-2`) or all (`kafka`). */
  command(command: 'stop' | 'start' | 'kill', node: string): void;
}

const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  STACK_HOME: path.join(readLayout().home, 'cluster'),
  KAFKA_PORT: process.env.CLUSTER_KAFKA_PORT ?? '19092',
  STACK_ENGINE: 'none',
  STACK_REGISTRY: '0',
});

function stackCli(args: string[]): string {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'scripts', 'stack', 'cli.js'), ...args], { encoding: 'utf8', env: env(), timeout: 600_000 });
  if (result.status !== 0) throw new Error(`stack ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** Starts (or finds running) the three-broker cluster. */
export function startCluster(): Cluster {
  stackCli(['up', '--brokers', '3']);
  const state = JSON.parse(readFileSync(path.join(env().STACK_HOME!, 'state.json'), 'utf8')) as { kafkaNodes?: { id: number; name: string; address: string }[] };
  const nodes = state.kafkaNodes ?? [];
  if (nodes.length < 3) throw new Error(`the cluster stack has ${nodes.length} brokers, not 3`);
  return {
    bootstrap: nodes.map((n) => n.address).join(','),
    nodes,
    command: (command, node) => void stackCli([command, node]),
  };
}

/** Stops the cluster and deletes its data (the next run formats a fresh one). */
export function stopCluster(): void {
  stackCli(['down', '--wipe']);
}

/** An admin client of the cluster. */
export async function withClusterAdmin<T>(cluster: Cluster, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: 'k2e-cluster-test', bootstrapBrokers: cluster.bootstrap.split(','), retries: 5, timeout: 10_000 });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

/** One of Kafka's command-line tools against the cluster. */
export function clusterTool(cluster: Cluster, main: string, args: readonly string[]): Promise<string> {
  return runJava(`org.apache.kafka.tools.${main}`, ['--bootstrap-server', cluster.bootstrap, ...args], { timeoutMs: 120_000 }).done;
}

/** The node id of the group's coordinator (kafka-consumer-groups --describe --state). */
export async function groupCoordinator(cluster: Cluster, groupId: string): Promise<number> {
  const out = await clusterTool(cluster, 'consumer.group.ConsumerGroupCommand', ['--describe', '--state', '--group', groupId]);
  const id = /\((\d+)\)/.exec(out.split('\n').find((line) => line.includes(groupId)) ?? '')?.[1];
  if (id === undefined) throw new Error(`no coordinator in:\n${out}`);
  return Number(id);
}

/** Leader of each partition. */
export async function leaders(cluster: Cluster, topic: string): Promise<number[]> {
  const metadata = await withClusterAdmin(cluster, (admin) => admin.metadata({ topics: [topic], forceUpdate: true }));
  return metadata.topics.get(topic)!.partitions.map((p) => p.leader);
}

/**
 * Moves every partition's leadership to its next replica: a reassignment that rotates each replica
 * list (the new first one is preferred), then a preferred election.
 */
export async function rotateClusterLeaders(cluster: Cluster, topic: string): Promise<void> {
  const metadata = await withClusterAdmin(cluster, (admin) => admin.metadata({ topics: [topic], forceUpdate: true }));
  const partitions = metadata.topics.get(topic)!.partitions.map((p, partition) => ({ topic, partition, replicas: [...p.replicas.slice(1), ...p.replicas.slice(0, 1)] }));
  const dir = mkdtempSync(path.join(tmpdir(), 'k2e-cluster-'));
  try {
    const plan = path.join(dir, 'plan.json');
    writeFileSync(plan, JSON.stringify({ version: 1, partitions }));
    await clusterTool(cluster, 'reassign.ReassignPartitionsCommand', ['--execute', '--reassignment-json-file', plan]);
    for (let i = 0; i < 240; i++) {
      const status = await clusterTool(cluster, 'reassign.ReassignPartitionsCommand', ['--verify', '--reassignment-json-file', plan]);
      if (!/is still in progress/.test(status)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const elect = path.join(dir, 'elect.json');
    writeFileSync(elect, JSON.stringify({ partitions: partitions.map(({ topic: t, partition }) => ({ topic: t, partition })) }));
    await clusterTool(cluster, 'LeaderElectionCommand', ['--election-type', 'PREFERRED', '--path-to-json-file', elect]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
