// The live status page served at `/`: one self-contained HTML document (inline CSS and vanilla JS,
// no external resources, assets/status-page.html) that polls `/status` every 2 s and renders the
// instance, reachability, sink state, totals, a per-partition table and a chart of throughput and
// lag. Every field is optional on the page's side: it degrades to "—" when /status does not (yet)
// carry a value. Key elements carry stable data-testid attributes (and the raw number in
// data-value) for the browser test and for anyone scraping the page. Read once, at start.
// It is served with a Content-Security-Policy that allows exactly its own inline script and style
// (by their SHA-256 hashes), requests to this origin, and nothing else: no other script can run in it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** assets/ sits at the repository root, beside src/ and dist/ (this file runs from dist/src/http/). */
const PAGE = fileURLToPath(new URL('../../../assets/status-page.html', import.meta.url));

export const STATUS_PAGE_HTML: string = readFileSync(PAGE, 'utf8');

/** 'sha256-…' of each inline element's content, as CSP hashes it (the exact text between the tags). */
function hashes(html: string, tag: 'script' | 'style'): string[] {
  return [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => `'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`);
}

/** The page's Content-Security-Policy. */
export function statusPagePolicy(html: string): string {
  return [
    "default-src 'none'",
    `script-src ${hashes(html, 'script').join(' ') || "'none'"}`,
    `style-src ${hashes(html, 'style').join(' ') || "'none'"}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export const STATUS_PAGE_CSP: string = statusPagePolicy(STATUS_PAGE_HTML);
