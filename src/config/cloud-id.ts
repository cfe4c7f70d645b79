// Elastic Cloud ids: `<deployment name>:<base64 of "host[:port]$es-id[:port]$kibana-id">`. The
// Elasticsearch endpoint is https://<es-id>.<host>, on the port given with the id or the host, else 443.

/** The Elasticsearch URL of an Elastic Cloud id; throws a sentence saying what is wrong. */
export function decodeCloudId(cloudId: string): string {
  const encoded = cloudId.includes(':') ? cloudId.slice(cloudId.indexOf(':') + 1) : cloudId;
  if (!/^[A-Za-z0-9+/=_-]+$/.test(encoded)) throw new Error('not an Elastic Cloud id (expected name:base64)');
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const [hostPart, esPart] = decoded.split('$');
  if (!hostPart || !esPart) throw new Error('not an Elastic Cloud id (its decoded value has no host$elasticsearch-id)');
  const [host, hostPort] = splitPort(hostPart);
  const [esId, esPort] = splitPort(esPart);
  const port = esPort ?? hostPort ?? '443';
  if (!/^[A-Za-z0-9.-]+$/.test(host) || !/^[A-Za-z0-9-]+$/.test(esId) || !/^\d{1,5}$/.test(port)) throw new Error('not an Elastic Cloud id (host or id has unexpected characters)');
  return `https://${esId}.${host}${port === '443' ? '' : `:${port}`}`;
}

function splitPort(value: string): [string, string | undefined] {
  const colon = value.lastIndexOf(':');
  return colon < 0 ? [value, undefined] : [value.slice(0, colon), value.slice(colon + 1)];
}
