// The stack's state file: which broker and which search engines `up` started, and where.
// Tests, benchmarks and the demo read it, so all of them use the same running stack.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EngineName } from './layout.js';
import { readLayout } from './layout.js';

export interface StackState {
  /** Broker 1's address (a bootstrap address for any client; the only broker unless `up --brokers N`). */
  brokers: string;
  /** Every Kafka node (broker+controller), node 1 first: all bootstrap addresses. Absent before clusters existed: one node. */
  kafkaNodes?: { id: number; name: string; address: string }[];
  engines: { name: EngineName; url: string }[];
  /** Confluent-compatible schema registry URL, when the stack runs one. */
  registry?: string;
  /** The broker's SASL/PLAIN listener and its test user. */
  sasl?: { brokers: string; mechanism: 'PLAIN'; username: string; password: string };
  /** The stack's test PKI (files under <STACK_HOME>/tls). */
  tls?: {
    ca: string;
    otherCa: string;
    clientCert: string;
    clientKey: string;
    clientEncryptedKey: string;
    clientKeyPassphrase: string;
    untrustedClientCert: string;
    untrustedClientKey: string;
  };
  /** The broker's TLS listeners: server-authenticated, client certificates required, SCRAM over TLS; and OAUTHBEARER (unsecured tokens). */
  kafkaSecure?: {
    ssl: string;
    mtls: string;
    saslSsl: string;
    oauthbearer: string;
    /** Absent when the storage was formatted before the stack created SCRAM users. */
    scram?: { username: string; password: string };
  };
  /** The TLS gateway (nginx): engines under /<engine name>/, `/` = the first engine. */
  gateway?: {
    url: string;
    /** Requires a client certificate from the stack's CA; no basic auth. */
    mtlsUrl: string;
    users: Record<'admin' | 'writer' | 'bulkOnly', { username: string; password: string }>;
    /** The index names the least-privilege users may write to start with this. */
    leastPrivilegeIndexPrefix: string;
    /** nginx's access log: remote address, user, request line, status, X-Opaque-Id, client certificate subject. */
    accessLog: string;
  };
  /** The forward proxy (tinyproxy) and its basic-auth user; its log shows each CONNECT. */
  proxy?: { url: string; username: string; password: string; log: string };
}

export const stateFile = (): string => path.join(readLayout().home, 'state.json');

export function writeState(state: StackState): void {
  writeFileSync(stateFile(), `${JSON.stringify(state, null, 2)}\n`);
}

/** The running stack, or the defaults of a stack the user runs elsewhere (env K2E_BROKERS, K2E_ELASTIC_URL). */
export function readState(): StackState {
  if (existsSync(stateFile())) return JSON.parse(readFileSync(stateFile(), 'utf8')) as StackState;
  return {
    brokers: process.env.K2E_BROKERS ?? '127.0.0.1:9092',
    engines: [{ name: 'elasticsearch', url: process.env.K2E_ELASTIC_URL ?? 'http://127.0.0.1:9200' }],
    ...(process.env.K2E_SCHEMA_REGISTRY_URL ? { registry: process.env.K2E_SCHEMA_REGISTRY_URL } : {}),
  };
}
