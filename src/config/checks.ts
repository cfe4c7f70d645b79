// The configuration's semantic checks, run after its shape is parsed: combinations that cannot work,
// refused at start with the reason, one line each (routing and templates in routing-checks.ts).
import type { z } from 'zod';
import { everyTopicUnversioned, routingChecks } from './routing-checks.js';
import type { Config } from './schema.js';

/** Combinations that cannot work, refused at start with the reason (one line each). */
export const configChecks = (config: Config, ctx: z.RefinementCtx): void => {
  const { version, action, id } = config.document;
  const versioned = version !== 'auto' && version !== 'none';
  const refuse = (message: string): void => ctx.addIssue({ code: 'custom', path: ['document', 'version'], message, input: version });
  if (versioned && action === 'create') refuse('create is write-once and cannot carry an external version: use document.action index, or version none');
  if (versioned && (action === 'update' || action === 'upsert')) refuse(`external versioning cannot apply to ${action} (the engines refuse versions on updates; partial updates keep their order by going one bulk at a time per partition): set document.version none, or use document.action index`);
  if (versioned && id === 'none') refuse('engine-generated ids (document.id none) cannot be versioned');
  const perPartition = config.batch.maxInFlightPerPartition;
  if (typeof perPartition === 'number' && perPartition > 1 && (version === 'none' || (version === 'auto' && everyTopicUnversioned(config)))) {
    ctx.addIssue({ code: 'custom', path: ['batch', 'maxInFlightPerPartition'], message: 'more than one bulk per partition in flight needs external versioning (document.version) to keep writes in order', input: perPartition });
  }
  if (config.delivery === 'at-most-once' && typeof perPartition === 'number' && perPartition > 1) {
    ctx.addIssue({ code: 'custom', path: ['batch', 'maxInFlightPerPartition'], message: 'at-most-once commits before each batch: one batch per partition at a time', input: perPartition });
  }
  routingChecks(config, ctx);
  connectionChecks(config, ctx);
};

/** Credentials that cannot work together, or are incomplete. */
export function connectionChecks(config: Config, ctx: z.RefinementCtx): void {
  const issue = (path: string[], message: string, input: unknown): void => ctx.addIssue({ code: 'custom', path, message, input });
  const { sasl } = config.kafka;
  if (sasl && sasl.mechanism !== 'OAUTHBEARER' && (sasl.username === undefined || sasl.password === undefined)) {
    issue(['kafka', 'sasl', sasl.username === undefined ? 'username' : 'password'], `${sasl.mechanism} needs kafka.sasl.username and kafka.sasl.password (or passwordFile)`, undefined);
  }
  if (sasl?.mechanism === 'OAUTHBEARER') {
    const sources = (['token', 'tokenFile', 'unsecuredPrincipal'] as const).filter((k) => sasl[k] !== undefined);
    if (sources.length !== 1) issue(['kafka', 'sasl', 'mechanism'], `OAUTHBEARER needs exactly one of kafka.sasl.token, tokenFile or unsecuredPrincipal${sources.length ? ` (got ${sources.join(', ')})` : ''}`, sasl.mechanism);
  }
  const { elastic } = config;
  if (elastic.aws && (elastic.username !== undefined || elastic.apiKey !== undefined)) {
    issue(['elastic', 'aws'], 'elastic.aws signs requests with SigV4: it replaces elastic.username/password and apiKey', elastic.aws.region);
  }
  for (const tls of [typeof config.kafka.tls === 'object' ? { at: 'kafka', tls: config.kafka.tls } : undefined, elastic.tls ? { at: 'elastic', tls: elastic.tls } : undefined]) {
    if (tls && (tls.tls.certFile === undefined) !== (tls.tls.keyFile === undefined)) issue([tls.at, 'tls', tls.tls.certFile ? 'keyFile' : 'certFile'], `a client certificate needs both ${tls.at}.tls.certFile and keyFile`, undefined);
  }
}
