// The service's configuration: one schema, validated with zod, with defaults that suit a local stack.
import { z } from 'zod';

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port');

export const configSchema = z.object({
  kafka: z.object({
    brokers: z.array(hostPort).min(1),
    topics: z.array(z.string().min(1)).min(1),
    groupId: z.string().min(1).default('kafka-to-elastic'),
    clientId: z.string().min(1).default('kafka-to-elastic'),
    /** Where a group without committed offsets starts (Kafka's auto.offset.reset). */
    autoOffsetReset: z.enum(['earliest', 'latest']).default('earliest'),
    sessionTimeoutMs: z.number().int().positive().default(30_000),
    heartbeatIntervalMs: z.number().int().positive().default(3_000),
    maxWaitMs: z.number().int().positive().default(500),
    maxBytes: z.number().int().positive().default(8 * 1024 * 1024),
  }),
  elastic: z.object({
    url: z.url(),
    index: z.string().min(1).regex(/^[^A-Z\s,"*\\<>|?/#]+$/, 'lowercase, without spaces or any of , " * \\ < > | ? / #'),
    requestTimeoutMs: z.number().int().positive().default(30_000),
  }),
  batch: z.object({
    maxDocs: z.number().int().positive().default(1000),
    maxBytes: z.number().int().positive().default(5 * 1024 * 1024),
    lingerMs: z.number().int().nonnegative().default(50),
    maxInFlight: z.number().int().positive().default(4),
    /** Records held in memory across all partitions before fetching pauses. */
    maxBufferedRecords: z.number().int().positive().default(20_000),
  }),
  retry: z.object({
    initialDelayMs: z.number().int().positive().default(200),
    maxDelayMs: z.number().int().positive().default(30_000),
  }),
  http: z.object({ port: z.number().int().min(0).max(65535).default(8080) }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof configSchema>;
