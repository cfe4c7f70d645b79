// Which headers of a failed record its dead letter carries (errors.dlqHeaders). A dead-letter topic is
// read by more people and tools than the source topic (`dlq show` prints it), so credentials some
// producers put in headers (an Authorization header passed along from an HTTP request, a session
// cookie) stay behind by default. Headers the configuration itself reads ({header:<name>} in a
// template, document.version header:<name>) go along with the default and with a list: a re-drive
// needs them to make the same document, in the same index, with the same version. `none` means none.

export type DlqHeaders = 'all' | 'none' | readonly string[] | undefined;

/** Dropped by default (unset errors.dlqHeaders): names containing any of these, in any case. */
const CREDENTIAL_HEADER = /authorization|cookie|token|secret|password|passwd|credential|api[-_]?key|session/i;

/** A predicate on header names: true for a header the dead letter keeps. */
export function dlqHeaderFilter(setting: DlqHeaders, configured: ReadonlySet<string> = new Set()): (name: string) => boolean {
  if (setting === 'all') return () => true;
  if (setting === 'none') return () => false;
  const read = new Set([...configured].map((n) => n.toLowerCase()));
  if (setting === undefined) return (name) => read.has(name.toLowerCase()) || !CREDENTIAL_HEADER.test(name);
  const listed = new Set(setting.map((n) => n.toLowerCase()));
  return (name) => listed.has(name.toLowerCase()) || read.has(name.toLowerCase());
}

/** Header names the configuration reads: `{header:<name>}` anywhere (index, pipeline and data stream templates, transform.add) and document.version header:<name>. */
export function headersReadBy(config: { document: { version: string } }): Set<string> {
  const names = new Set<string>();
  for (const match of JSON.stringify(config).matchAll(/\{header:([^}]+)\}/g)) names.add(match[1]!);
  const version = /^header:(.+)$/.exec(config.document.version)?.[1];
  if (version !== undefined) names.add(version);
  return names;
}
