// The live status page served at `/`: one self-contained HTML document (inline CSS and vanilla JS,
// no external resources, assets/status-page.html) that polls `/status` every 2 s and renders the
// instance, reachability, sink state, totals, a per-partition table and a chart of throughput and
// lag. Every field is optional on the page's side: it degrades to "—" when /status does not (yet)
// carry a value. Key elements carry stable data-testid attributes (and the raw number in
// data-value) for the browser test and for anyone scraping the page. Read once, at start.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** assets/ sits at the repository root, beside src/ and dist/ (this file runs from dist/src/http/). */
const PAGE = fileURLToPath(new URL('../../../assets/status-page.html', import.meta.url));

export const STATUS_PAGE_HTML: string = readFileSync(PAGE, 'utf8');
