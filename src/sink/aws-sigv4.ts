// AWS Signature Version 4 for Amazon OpenSearch Service (`es`) and OpenSearch Serverless (`aoss`),
// with the AWS SDK's own signer and default credential chain (environment, shared config/credentials
// files and profiles, SSO, web identity / IRSA, ECS and EC2 instance roles), loaded only when used.
interface SignableRequest {
  method: string;
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number | undefined;
  /** Path as sent on the wire (already percent-encoded), without the query. */
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

/** Returns the headers to add to a request: authorization, x-amz-date, x-amz-content-sha256, and the session token when there is one. */
export type RequestSigner = (request: SignableRequest) => Promise<Record<string, string>>;

export interface SigV4Options {
  region: string;
  /** `es` or `aoss` for the service; anything for AWS's published test vectors. */
  service: string;
  /** Tests pass fixed credentials and a date; the service uses the default chain and the clock. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  signingDate?: Date;
  /** Send x-amz-content-sha256 (default; OpenSearch Serverless requires it). Off only to check AWS's published test vectors, which sign without it. */
  payloadHashHeader?: boolean;
}

export async function createSigV4Signer(options: SigV4Options): Promise<RequestSigner> {
  const [{ SignatureV4 }, { Hash }] = await Promise.all([import('@smithy/signature-v4'), import('@smithy/hash-node')]);
  // The chain memoizes credentials and refreshes them before they expire (IRSA, SSO, instance roles).
  const credentials = options.credentials ?? (await import('@aws-sdk/credential-provider-node')).defaultProvider();
  // applyChecksum sends x-amz-content-sha256: OpenSearch Serverless requires it, the managed service accepts it.
  const signer = new SignatureV4({ credentials, region: options.region, service: options.service, sha256: Hash.bind(null, 'sha256'), applyChecksum: options.payloadHashHeader !== false });
  return async (request) => {
    const headers = { ...request.headers };
    const signed = await signer.sign(
      { method: request.method, protocol: request.protocol, hostname: request.hostname, ...(request.port ? { port: request.port } : {}), path: request.path, query: request.query, headers, ...(request.body !== undefined ? { body: request.body } : {}) },
      options.signingDate ? { signingDate: options.signingDate } : {},
    );
    const added: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) if (request.headers[name] === undefined) added[name] = String(value);
    return added;
  };
}

/** The query of a request path as the signer wants it (decoded; repeated keys as arrays). */
export function parseQuery(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(search)) {
    const existing = query[key];
    query[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return query;
}

/**
 * The query re-encoded the way SigV4 canonicalizes it (RFC 3986: only `A-Za-z0-9-_.~` left bare),
 * so what goes on the wire is byte for byte what was signed. A `,` or `*` sent bare is legal HTTP
 * but leaves the server's canonical form to its own decoding rules; AWS's SDKs send it encoded too.
 */
export function canonicalSearch(query: Record<string, string | string[]>): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(query)) for (const one of Array.isArray(value) ? value : [value]) pairs.push(`${rfc3986(key)}=${rfc3986(one)}`);
  return pairs.join('&');
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
