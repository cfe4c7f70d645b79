import { hostname } from 'node:os';

/** This process in logs, status and dead-letter headers, unless `instanceId` names it. */
export const defaultInstanceId = (): string => `${hostname()}-${process.pid}`;
