// Reading what alert rules and dashboards depend on: the metric names a PromQL expression selects,
// the metric names a /metrics page exports, and the anchors of a Markdown document's headings.

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);

/**
 * The metric names an expression selects (not functions, keywords, label names, label values,
 * durations or Grafana variables). A name used as `{__name__="x"}` is not seen; none of ours do that.
 */
export function metricNames(expr: string): Set<string> {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // strings (label values)
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ') // Grafana variables: $job, ${job}, $__rate_interval
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\boffset\s+-?\w+/g, ' ')
    .replace(/@\s*[\w.()]+/g, ' ');
  const names = new Set<string>();
  // Numbers first, so 1e3 or 0.99 never yield an identifier.
  for (const match of text.matchAll(/\d[\w.]*|[a-zA-Z_:][\w:]*(\s*\()?/g)) {
    const token = match[0];
    if (/^\d/.test(token) || match[1] !== undefined) continue; // a number, or a function/aggregation call
    if (KEYWORDS.has(token.toLowerCase())) continue;
    names.add(token);
  }
  return names;
}

/** Every series name a Prometheus text page can have, from its # TYPE lines (also when no sample exists yet). */
export function exportedNames(metricsText: string): Set<string> {
  const names = new Set<string>();
  for (const line of metricsText.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
      else if (kind === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
      else names.add(name);
    } else if (line !== '' && !line.startsWith('#')) {
      names.add(/^[^{\s]+/.exec(line)![0]);
    }
  }
  return names;
}

/** The HELP text of each metric on a /metrics page. */
export function helpTexts(metricsText: string): Map<string, string> {
  const help = new Map<string, string>();
  for (const line of metricsText.split('\n')) {
    const match = /^# HELP (\S+) (.*)$/.exec(line);
    if (match) help.set(match[1]!, match[2]!);
  }
  return help;
}

/** GitHub-style anchors of a Markdown document's headings ("### K2ENotReady" → "k2enotready"). */
export function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of markdown.split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    anchors.add(
      heading[1]!
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
}
