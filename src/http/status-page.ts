// The live status page served at `/`: one self-contained HTML document (inline CSS and vanilla JS,
// no external resources) that polls `/status` every 2 s and renders the instance, reachability, sink
// state, totals, a per-partition table and a chart of throughput and lag. Every field is optional on
// the page's side: it degrades to "—" when /status does not (yet) carry a value.
//
// Written as String.raw so the inline script keeps its backslashes; it must not contain a backtick
// or a dollar sign followed by a brace. Key elements carry stable data-testid attributes (and the raw
// number in data-value) for the browser test and for anyone scraping the page.
export const STATUS_PAGE_HTML: string = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kafka-to-elastic · status</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%23101828'/%3E%3Cpath d='M3 11l3-3 2 2 5-5' stroke='%2332d583' stroke-width='2' fill='none'/%3E%3C/svg%3E">
<style>
  :root {
    --bg: #f4f6f9; --panel: #ffffff; --border: #e2e7ee; --text: #1c2430; --muted: #667085; --faint: #98a2b3;
    --ok: #12805c; --ok-bg: #e6f6ef; --warn: #b45309; --warn-bg: #fdf3e3; --bad: #c0262d; --bad-bg: #fdecec;
    --rate: #2563eb; --rate-fill: rgba(37, 99, 235, 0.12); --lag: #d97706; --head: #101828;
  }
  * { box-sizing: border-box; }
  html, body { margin: 0; background: var(--bg); color: var(--text); }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
  .num, td.n, .card .value { font-variant-numeric: tabular-nums; }
  header { background: var(--head); color: #f2f4f7; padding: 14px 28px; display: flex; align-items: center; gap: 16px; flex-wrap: wrap; }
  header h1 { font-size: 17px; font-weight: 650; margin: 0; letter-spacing: 0.2px; }
  header .instance { color: #b9c2d0; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
  header .spacer { flex: 1; }
  .live { display: inline-flex; align-items: center; gap: 8px; font-size: 12.5px; color: #b9c2d0; }
  .live .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--faint); }
  .live.ok .dot { background: #32d583; box-shadow: 0 0 0 3px rgba(50, 213, 131, 0.18); }
  .live.error { color: #fda29b; }
  .live.error .dot { background: #f04438; }
  main { max-width: 1320px; margin: 0 auto; padding: 20px 28px 28px; }
  .badge { display: inline-flex; align-items: center; gap: 6px; border-radius: 999px; padding: 2px 10px; font-size: 12px; font-weight: 600; background: #eef1f5; color: var(--muted); white-space: nowrap; }
  .badge::before { content: ""; width: 7px; height: 7px; border-radius: 50%; background: currentColor; }
  .badge.ok { background: var(--ok-bg); color: var(--ok); }
  .badge.warn { background: var(--warn-bg); color: var(--warn); }
  .badge.bad { background: var(--bad-bg); color: var(--bad); }
  header .badge.ok { background: rgba(50, 213, 131, 0.16); color: #6ce9a6; }
  header .badge.bad { background: rgba(240, 68, 56, 0.18); color: #fda29b; }
  header .badge.warn { background: rgba(247, 144, 9, 0.18); color: #fec84b; }
  .panel { background: var(--panel); border: 1px solid var(--border); border-radius: 10px; }
  .meta { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 0; margin-bottom: 16px; }
  .meta > div { padding: 12px 16px; border-right: 1px solid var(--border); min-width: 0; }
  .meta > div:last-child { border-right: none; }
  .label { font-size: 11.5px; text-transform: uppercase; letter-spacing: 0.6px; color: var(--muted); font-weight: 600; }
  .meta .v { margin-top: 4px; font-weight: 550; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .meta .v.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
  .meta .sub { font-size: 12px; color: var(--muted); margin-top: 2px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .alert { display: none; margin-bottom: 16px; padding: 10px 14px; border-radius: 8px; border: 1px solid #f7c1bd; background: var(--bad-bg); color: #7a1a1f; font-size: 13px; }
  .alert.show { display: block; }
  .alert.warn { border-color: #f5d39b; background: var(--warn-bg); color: #7a3f06; }
  .alert code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; word-break: break-word; }
  .cards { display: grid; grid-template-columns: repeat(8, minmax(0, 1fr)); gap: 12px; margin-bottom: 16px; }
  .card { padding: 12px 14px; }
  .card .value { font-size: 22px; font-weight: 650; margin-top: 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .card .label { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; letter-spacing: 0.4px; }
  .card .sub { font-size: 12px; color: var(--muted); margin-top: 1px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .card.attention .value { color: var(--bad); }
  .card.lagging .value, .card.paused .value { color: var(--warn); }
  section.panel { margin-bottom: 16px; }
  section .head { display: flex; align-items: baseline; gap: 16px; padding: 12px 16px 0; flex-wrap: wrap; }
  section .head h2 { font-size: 14px; margin: 0; font-weight: 650; }
  section .head .hint { font-size: 12px; color: var(--muted); }
  .legend { display: flex; gap: 18px; font-size: 12.5px; color: var(--muted); margin-left: auto; }
  .legend span { display: inline-flex; align-items: center; gap: 6px; }
  .legend i { display: inline-block; width: 14px; height: 3px; border-radius: 2px; }
  .legend b { color: var(--text); font-weight: 600; font-variant-numeric: tabular-nums; }
  .chart-box { padding: 6px 8px 8px; }
  .chart-box svg { display: block; width: 100%; height: 210px; }
  .chart-box text { font-size: 11px; fill: var(--muted); font-variant-numeric: tabular-nums; }
  .chart-box .empty { font-size: 13px; fill: var(--faint); }
  table { width: 100%; border-collapse: collapse; }
  th, td { padding: 8px 14px; text-align: left; border-bottom: 1px solid var(--border); white-space: nowrap; }
  th { font-size: 11.5px; text-transform: uppercase; letter-spacing: 0.5px; color: var(--muted); font-weight: 600; background: #fafbfc; }
  th.n, td.n { text-align: right; }
  tbody tr:last-child td { border-bottom: none; }
  tbody tr:hover td { background: #fafbfd; }
  td.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
  td.muted, .muted { color: var(--faint); }
  td.lag-cell { min-width: 120px; }
  .lagbar { display: inline-block; vertical-align: middle; width: 48px; height: 6px; border-radius: 3px; background: #eef1f5; margin-right: 8px; overflow: hidden; }
  .lagbar > i { display: block; height: 100%; background: var(--lag); }
  td.warn { color: var(--warn); font-weight: 600; }
  td.bad { color: var(--bad); font-weight: 600; }
  .table-wrap { overflow-x: auto; padding-top: 10px; }
  .empty-row td { text-align: center; color: var(--muted); padding: 22px; }
  footer { display: flex; gap: 22px; flex-wrap: wrap; color: var(--muted); font-size: 12px; padding: 2px 4px; }
  footer a { color: var(--rate); text-decoration: none; }
  @media (max-width: 1100px) { .cards { grid-template-columns: repeat(4, minmax(0, 1fr)); } .meta > div { border-right: none; } }
  @media (max-width: 620px) { .cards { grid-template-columns: repeat(2, minmax(0, 1fr)); } main, header { padding-left: 14px; padding-right: 14px; } }
</style>
</head>
<body>
<header>
  <h1>kafka-to-elastic</h1>
  <span class="instance" data-testid="instance" title="instance id">—</span>
  <span class="badge" data-testid="ready">loading</span>
  <span class="spacer"></span>
  <span class="live" data-testid="connection"><span class="dot"></span><span data-testid="updated">connecting…</span></span>
</header>
<main>
  <div class="panel meta">
    <div><div class="label">Consumer group</div><div class="v mono" data-testid="group">—</div><div class="sub" data-testid="generation">&nbsp;</div></div>
    <div><div class="label">Topics</div><div class="v mono" data-testid="topics">—</div><div class="sub" data-testid="assigned">&nbsp;</div></div>
    <div><div class="label">Index</div><div class="v mono" data-testid="index">—</div><div class="sub" data-testid="delivery">&nbsp;</div></div>
    <div><div class="label">Kafka</div><div class="v"><span class="badge" data-testid="reachable-kafka">—</span></div><div class="sub" data-testid="reachable-since">&nbsp;</div></div>
    <div><div class="label">Search engine</div><div class="v"><span class="badge" data-testid="reachable-search">—</span></div><div class="sub">&nbsp;</div></div>
    <div><div class="label">Sink</div><div class="v"><span class="badge" data-testid="sink-state">—</span></div><div class="sub" data-testid="sink-error-at">&nbsp;</div></div>
  </div>

  <div class="alert" data-testid="sink-error"></div>

  <div class="cards">
    <div class="panel card"><div class="label">Consumed</div><div class="value" data-testid="total-consumed">—</div><div class="sub">records read</div></div>
    <div class="panel card"><div class="label">Indexed</div><div class="value" data-testid="total-indexed">—</div><div class="sub" data-testid="current-rate">&nbsp;</div></div>
    <div class="panel card" data-card="lag"><div class="label">Lag</div><div class="value" data-testid="total-lag">—</div><div class="sub">end − committed</div></div>
    <div class="panel card"><div class="label">Retries</div><div class="value" data-testid="total-retries">—</div><div class="sub">items retried</div></div>
    <div class="panel card" data-card="failed"><div class="label">Failed</div><div class="value" data-testid="total-failed">—</div><div class="sub">rejected for good</div></div>
    <div class="panel card" data-card="dlq"><div class="label" title="dead-lettered">Dead-lettered</div><div class="value" data-testid="total-dead-lettered">—</div><div class="sub">sent to the DLQ</div></div>
    <div class="panel card"><div class="label">Buffered</div><div class="value" data-testid="total-buffered">—</div><div class="sub" data-testid="total-buffered-bytes">records held</div></div>
    <div class="panel card" data-card="paused"><div class="label">Fetching</div><div class="value" data-testid="total-paused">—</div><div class="sub" data-testid="paused-reason">backpressure</div></div>
  </div>

  <section class="panel">
    <div class="head">
      <h2>Throughput and lag</h2><span class="hint" data-testid="chart-span">sampled every 2 s</span>
      <div class="legend">
        <span><i style="background: var(--rate)"></i>indexed/s <b data-testid="legend-rate">—</b></span>
        <span><i style="background: var(--lag)"></i>lag <b data-testid="legend-lag">—</b></span>
      </div>
    </div>
    <div class="chart-box" data-testid="chart-box"><svg data-testid="chart" data-points="0" role="img" aria-label="indexed documents per second and lag over time"></svg></div>
  </section>

  <section class="panel">
    <div class="head"><h2>Partitions</h2><span class="hint" data-testid="partition-count"></span></div>
    <div class="table-wrap">
      <table data-testid="partition-table">
        <thead><tr>
          <th>Topic</th><th class="n">Partition</th><th>Owner</th><th class="n">Committed</th><th class="n">End</th>
          <th class="n">Lag</th><th class="n">Rate docs/s</th><th class="n">Indexed</th><th class="n">Retries</th><th class="n">DLQ</th><th class="n">Pending</th>
        </tr></thead>
        <tbody data-testid="partition-body"><tr class="empty-row"><td colspan="11">Waiting for the first status…</td></tr></tbody>
      </table>
    </div>
  </section>

  <footer>
    <span>Uptime <b class="num" data-testid="uptime">—</b></span>
    <span>Memory RSS <b class="num" data-testid="memory">—</b></span>
    <span>Raw data: <a href="status">/status</a> · <a href="metrics">/metrics</a></span>
  </footer>
</main>
<script>
(function () {
  'use strict';
  var POLL_MS = 2000;
  var TIMEOUT_MS = 5000;
  var MIN_SPAN_MS = 60000;
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var nf = new Intl.NumberFormat('en-US');
  var nf1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
  var local = []; // client-side samples, used when /status carries no history
  var lastStatus = null;
  var lastOkAt = null;

  function el(id) { return document.querySelector('[data-testid="' + id + '"]'); }
  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function toNum(v) {
    if (isNum(v)) return v;
    if (typeof v === 'string' && v.trim() !== '' && isFinite(Number(v))) return Number(v);
    return null;
  }
  function fmtInt(v) {
    if (typeof v === 'string' && /^-?\d+$/.test(v)) {
      try { return BigInt(v).toLocaleString('en-US'); } catch (e) { return v; }
    }
    var n = toNum(v);
    return n === null ? '—' : nf.format(Math.round(n));
  }
  function fmtRate(v) {
    var n = toNum(v);
    if (n === null) return '—';
    return n >= 100 ? nf.format(Math.round(n)) : nf1.format(n);
  }
  function fmtShort(n) {
    if (!isNum(n)) return '';
    var a = Math.abs(n);
    if (a >= 1e9) return nf1.format(n / 1e9) + 'G';
    if (a >= 1e6) return nf1.format(n / 1e6) + 'M';
    if (a >= 1e3) return nf1.format(n / 1e3) + 'k';
    return nf1.format(n);
  }
  function fmtBytes(v) {
    var n = toNum(v);
    if (n === null) return '—';
    var units = ['B', 'KiB', 'MiB', 'GiB'];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(Math.round(n)) : nf1.format(n)) + ' ' + units[i];
  }
  function fmtDuration(sec) {
    if (!isNum(sec)) return '—';
    sec = Math.max(0, Math.round(sec));
    var d = Math.floor(sec / 86400), h = Math.floor(sec % 86400 / 3600), m = Math.floor(sec % 3600 / 60), s = sec % 60;
    if (d > 0) return d + 'd ' + h + 'h';
    if (h > 0) return h + 'h ' + pad(m) + 'm';
    if (m > 0) return m + 'm ' + pad(s) + 's';
    return s + 's';
  }
  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function fmtClock(t) {
    if (!isNum(t)) return '';
    var d = new Date(t);
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }
  function ago(t) {
    if (!isNum(t)) return '';
    return fmtDuration((Date.now() - t) / 1000) + ' ago';
  }
  function str(v) { return typeof v === 'string' || isNum(v) ? String(v) : null; }

  function setText(id, text, raw) {
    var e = el(id);
    if (!e) return;
    if (e.textContent !== text) e.textContent = text;
    if (arguments.length > 2) e.setAttribute('data-value', raw === null || raw === undefined ? '' : String(raw));
  }
  function setBadge(id, text, kind) {
    var e = el(id);
    if (!e) return;
    e.textContent = text;
    e.className = 'badge' + (kind ? ' ' + kind : '');
    e.setAttribute('data-state', kind || 'unknown');
  }

  function render(s) {
    document.title = 'kafka-to-elastic · ' + (str(s.instance) || 'status');
    setText('instance', str(s.instance) || '—');
    if (typeof s.ready === 'boolean') setBadge('ready', s.ready ? 'ready' : 'not ready', s.ready ? 'ok' : 'bad');
    else setBadge('ready', 'unknown', '');
    el('ready').setAttribute('data-value', typeof s.ready === 'boolean' ? String(s.ready) : '');

    setText('group', str(s.groupId) || '—');
    el('group').title = str(s.groupId) || '';
    setText('generation', isNum(s.generation) ? 'generation ' + s.generation : '\u00a0');
    var topics = Array.isArray(s.topics) ? s.topics.join(', ') : (str(s.topics) || '—');
    setText('topics', topics || '—');
    el('topics').title = topics;
    setText('assigned', Array.isArray(s.assigned) ? s.assigned.length + ' partition' + (s.assigned.length === 1 ? '' : 's') + ' assigned here' : '\u00a0');
    setText('index', str(s.index) || '—');
    el('index').title = str(s.index) || '';
    setText('delivery', str(s.delivery) ? 'delivery: ' + s.delivery : '\u00a0');

    var r = s.reachable && typeof s.reachable === 'object' ? s.reachable : null;
    function reach(id, v) {
      if (typeof v === 'boolean') setBadge(id, v ? 'reachable' : 'unreachable', v ? 'ok' : 'bad');
      else setBadge(id, 'unknown', '');
    }
    reach('reachable-kafka', r ? r.kafka : undefined);
    reach('reachable-search', r ? r.searchEngine : undefined);
    setText('reachable-since', r && isNum(r.since) ? 'since ' + fmtClock(r.since) : '\u00a0');

    var sink = s.sink && typeof s.sink === 'object' ? s.sink : null;
    var sinkState = sink ? str(sink.state) : null;
    setBadge('sink-state', sinkState || 'unknown', sinkState === 'ok' ? 'ok' : sinkState === 'retrying' ? 'warn' : sinkState === 'unreachable' ? 'bad' : '');
    var alertBox = el('sink-error');
    var lastError = sink ? str(sink.lastError) : null;
    if (lastError) {
      alertBox.className = 'alert show' + (sinkState === 'ok' ? ' warn' : '');
      alertBox.textContent = '';
      var strong = document.createElement('strong');
      strong.textContent = (sinkState === 'ok' ? 'Last sink error (recovered)' : 'Sink error') + (sink && isNum(sink.lastErrorAt) ? ', ' + ago(sink.lastErrorAt) + ': ' : ': ');
      var code = document.createElement('code');
      code.textContent = lastError;
      alertBox.appendChild(strong);
      alertBox.appendChild(code);
    } else {
      alertBox.className = 'alert';
      alertBox.textContent = '';
    }
    setText('sink-error-at', sink && isNum(sink.lastErrorAt) ? 'last error ' + fmtClock(sink.lastErrorAt) : (sinkState ? 'no errors' : '\u00a0'));

    setText('total-consumed', fmtInt(s.consumed), toNum(s.consumed));
    setText('total-indexed', fmtInt(s.indexed), toNum(s.indexed));
    setText('total-retries', fmtInt(s.retries), toNum(s.retries));
    setText('total-failed', fmtInt(s.failed), toNum(s.failed));
    setText('total-dead-lettered', fmtInt(s.deadLettered), toNum(s.deadLettered));
    setText('total-buffered', fmtInt(s.buffered), toNum(s.buffered));
    setText('total-buffered-bytes', toNum(s.bufferedBytes) === null ? 'records held' : fmtBytes(s.bufferedBytes) + ' held');
    setText('total-paused', typeof s.paused === 'boolean' ? (s.paused ? 'paused' : 'running') : '—', typeof s.paused === 'boolean' ? String(s.paused) : '');
    var totalLag = toNum(s.lag);
    setText('total-lag', totalLag === null ? '—' : fmtInt(totalLag), totalLag);
    toggleCard('lag', 'lagging', totalLag !== null && totalLag > 0);
    toggleCard('paused', 'paused', s.paused === true);
    setText('paused-reason', s.paused === true ? 'buffers full' : s.paused === false ? 'not throttled' : 'backpressure');
    toggleCard('failed', 'attention', (toNum(s.failed) || 0) > 0);
    toggleCard('dlq', 'attention', (toNum(s.deadLettered) || 0) > 0);

    var m = s.memory && typeof s.memory === 'object' ? s.memory : null;
    setText('memory', m && isNum(m.rss) ? fmtBytes(m.rss) : '—');
    setText('uptime', fmtDuration(s.uptimeSec));

    renderPartitions(s.partitions, s.assigned);
    var history = historyOf(s);
    var lastPoint = history.length > 0 ? history[history.length - 1] : null;
    setText('current-rate', lastPoint && isNum(lastPoint.indexedPerSec) ? fmtRate(lastPoint.indexedPerSec) + ' docs/s' : '\u00a0');
    setText('legend-rate', lastPoint && isNum(lastPoint.indexedPerSec) ? fmtRate(lastPoint.indexedPerSec) + '/s' : '—');
    setText('legend-lag', totalLag !== null ? fmtInt(totalLag) : lastPoint && isNum(lastPoint.lag) ? fmtInt(lastPoint.lag) : '—');
    drawChart(history);
  }

  function toggleCard(name, cls, on) {
    var card = document.querySelector('[data-card="' + name + '"]');
    if (card) card.classList.toggle(cls, on);
  }

  function cell(tr, text, cls, col) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    td.setAttribute('data-col', col);
    tr.appendChild(td);
    return td;
  }

  function renderPartitions(partitions, assigned) {
    var body = el('partition-body');
    body.textContent = '';
    if (!Array.isArray(partitions) || partitions.length === 0) {
      var tr = document.createElement('tr');
      tr.className = 'empty-row';
      var td = document.createElement('td');
      td.colSpan = 11;
      td.setAttribute('data-testid', 'no-partitions');
      td.textContent = !Array.isArray(partitions)
        ? 'Waiting for the consumer to join the group…'
        : (Array.isArray(assigned) && assigned.length === 0 ? 'No partitions assigned to this instance (idle: it takes over when another instance stops).' : 'No partition data yet.');
      tr.appendChild(td);
      body.appendChild(tr);
      setText('partition-count', '');
      return;
    }
    var rows = partitions.filter(function (p) { return p && typeof p === 'object'; }).slice().sort(function (a, b) {
      var ta = String(a.topic || ''), tb = String(b.topic || '');
      return ta < tb ? -1 : ta > tb ? 1 : (toNum(a.partition) || 0) - (toNum(b.partition) || 0);
    });
    var maxLag = 0;
    rows.forEach(function (p) { var l = toNum(p.lag); if (l !== null && l > maxLag) maxLag = l; });
    rows.forEach(function (p) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-testid', 'partition-row');
      tr.setAttribute('data-topic', String(p.topic || ''));
      tr.setAttribute('data-partition', String(p.partition));
      cell(tr, str(p.topic) || '—', 'mono', 'topic');
      cell(tr, str(p.partition) || '—', 'n', 'partition');
      cell(tr, str(p.owner) || '—', 'mono' + (p.owner ? '' : ' muted'), 'owner');
      cell(tr, p.committed === null || p.committed === undefined ? '—' : fmtInt(p.committed), 'n' + (p.committed == null ? ' muted' : ''), 'committed');
      cell(tr, p.end === null || p.end === undefined ? '—' : fmtInt(p.end), 'n' + (p.end == null ? ' muted' : ''), 'end');
      var lag = toNum(p.lag);
      var lagTd = cell(tr, '', 'n lag-cell' + (lag === null ? ' muted' : ''), 'lag');
      lagTd.setAttribute('data-value', lag === null ? '' : String(lag));
      if (lag !== null) {
        var bar = document.createElement('span');
        bar.className = 'lagbar';
        var fill = document.createElement('i');
        fill.style.width = (maxLag > 0 ? Math.max(lag > 0 ? 4 : 0, Math.round(lag / maxLag * 100)) : 0) + '%';
        bar.appendChild(fill);
        lagTd.appendChild(bar);
      }
      lagTd.appendChild(document.createTextNode(lag === null ? '—' : fmtInt(p.lag)));
      cell(tr, fmtRate(p.ratePerSec), 'n', 'rate');
      cell(tr, fmtInt(p.indexed), 'n', 'indexed');
      cell(tr, fmtInt(p.retries), 'n' + ((toNum(p.retries) || 0) > 0 ? ' warn' : ''), 'retries');
      cell(tr, fmtInt(p.deadLettered), 'n' + ((toNum(p.deadLettered) || 0) > 0 ? ' bad' : ''), 'dlq');
      cell(tr, fmtInt(p.pending), 'n', 'pending');
      body.appendChild(tr);
    });
    setText('partition-count', rows.length + ' partition' + (rows.length === 1 ? '' : 's') + ' owned by this instance');
  }

  // The history from /status when it has one; otherwise the page's own samples of the totals.
  function historyOf(s) {
    var now = Date.now();
    var indexed = toNum(s.indexed);
    if (indexed !== null) {
      var prev = local.length > 0 ? local[local.length - 1] : null;
      var rate = prev && now > prev.t ? Math.max(0, (indexed - prev.indexed) / ((now - prev.t) / 1000)) : 0;
      local.push({ t: now, indexed: indexed, indexedPerSec: rate, lag: toNum(s.lag) });
      if (local.length > 300) local.shift();
    }
    if (Array.isArray(s.history)) {
      return s.history.filter(function (h) { return h && isNum(h.t); }).map(function (h) {
        return { t: h.t, indexedPerSec: isNum(h.indexedPerSec) ? h.indexedPerSec : null, lag: toNum(h.lag) };
      });
    }
    return local.slice(1);
  }

  // The top of an axis with 4 gridlines, each at a round value (1, 2, 2.5 or 5 times a power of ten).
  function niceMax(v) {
    if (!isNum(v) || v <= 0) return 4;
    var raw = v / 4;
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= raw) return Math.max(4, steps[i] * p * 4);
    return 40 * p;
  }

  function node(parent, name, attrs, text) {
    var e = document.createElementNS(SVG_NS, name);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    parent.appendChild(e);
    return e;
  }

  function drawChart(points) {
    var svg = el('chart');
    var box = el('chart-box');
    var W = Math.max(320, Math.floor(box.clientWidth - 16));
    var H = 210;
    var L = 58, R = 58, T = 14, B = 26;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.textContent = '';
    svg.setAttribute('data-points', String(points.length));
    var pw = W - L - R, ph = H - T - B;

    var maxRate = 0, maxLag = 0;
    points.forEach(function (p) {
      if (isNum(p.indexedPerSec) && p.indexedPerSec > maxRate) maxRate = p.indexedPerSec;
      if (isNum(p.lag) && p.lag > maxLag) maxLag = p.lag;
    });
    svg.setAttribute('data-max-rate', String(Math.round(maxRate * 10) / 10));
    svg.setAttribute('data-max-lag', String(maxLag));
    var yRate = niceMax(maxRate), yLag = niceMax(maxLag);

    for (var g = 0; g <= 4; g++) {
      var gy = T + ph - ph * g / 4;
      node(svg, 'line', { x1: L, x2: L + pw, y1: gy, y2: gy, stroke: g === 0 ? '#cfd6e0' : '#edf0f4', 'stroke-width': 1 });
      node(svg, 'text', { x: L - 8, y: gy + 4, 'text-anchor': 'end', style: 'fill: #2563eb' }, fmtShort(yRate * g / 4));
      node(svg, 'text', { x: L + pw + 8, y: gy + 4, 'text-anchor': 'start', style: 'fill: #b45309' }, fmtShort(yLag * g / 4));
    }

    if (points.length < 2) {
      node(svg, 'text', { x: L + pw / 2, y: T + ph / 2, 'text-anchor': 'middle', 'class': 'empty' }, 'Collecting samples…');
      setText('chart-span', 'sampled every 2 s');
      return;
    }
    var tEnd = points[points.length - 1].t;
    var tStart = Math.min(points[0].t, tEnd - MIN_SPAN_MS);
    var span = tEnd - tStart;
    function x(t) { return L + (t - tStart) / span * pw; }
    function y(v, max) { return T + ph - Math.min(1, v / max) * ph; }

    var step = span <= 90000 ? 15000 : span <= 180000 ? 30000 : span <= 360000 ? 60000 : 120000;
    for (var tt = tEnd; tt >= tStart - 1; tt -= step) {
      var back = Math.round((tEnd - tt) / 1000);
      var label = back === 0 ? 'now' : back % 60 === 0 ? '−' + back / 60 + 'm' : back > 60 ? '−' + Math.floor(back / 60) + 'm' + pad(back % 60) + 's' : '−' + back + 's';
      var tx = x(tt);
      node(svg, 'line', { x1: tx, x2: tx, y1: T + ph, y2: T + ph + 4, stroke: '#cfd6e0' });
      node(svg, 'text', { x: tx, y: H - 6, 'text-anchor': tx > L + pw - 12 ? 'end' : 'middle' }, label);
    }
    setText('chart-span', 'last ' + fmtDuration(span / 1000) + ', sampled every 2 s');

    // indexed/s: area + line
    var ratePts = points.filter(function (p) { return isNum(p.indexedPerSec); });
    if (ratePts.length > 1) {
      var line = ratePts.map(function (p, i) { return (i === 0 ? 'M' : 'L') + x(p.t).toFixed(1) + ',' + y(p.indexedPerSec, yRate).toFixed(1); }).join(' ');
      var area = line + ' L' + x(ratePts[ratePts.length - 1].t).toFixed(1) + ',' + (T + ph) + ' L' + x(ratePts[0].t).toFixed(1) + ',' + (T + ph) + ' Z';
      node(svg, 'path', { d: area, fill: 'rgba(37, 99, 235, 0.12)', stroke: 'none' });
      node(svg, 'path', { d: line, fill: 'none', stroke: '#2563eb', 'stroke-width': 2, 'stroke-linejoin': 'round', 'data-testid': 'chart-rate' });
    }
    // lag: line, broken where unknown
    var d = '', pen = false;
    points.forEach(function (p) {
      if (!isNum(p.lag)) { pen = false; return; }
      d += (pen ? 'L' : 'M') + x(p.t).toFixed(1) + ',' + y(p.lag, yLag).toFixed(1) + ' ';
      pen = true;
    });
    if (d) node(svg, 'path', { d: d.trim(), fill: 'none', stroke: '#d97706', 'stroke-width': 2, 'stroke-linejoin': 'round', 'stroke-dasharray': '5 3', 'data-testid': 'chart-lag' });
    var last = points[points.length - 1];
    if (isNum(last.indexedPerSec)) node(svg, 'circle', { cx: x(last.t), cy: y(last.indexedPerSec, yRate), r: 3.5, fill: '#2563eb' });
    if (isNum(last.lag)) node(svg, 'circle', { cx: x(last.t), cy: y(last.lag, yLag), r: 3.5, fill: '#d97706' });
  }

  function setConnection(ok, message) {
    var c = el('connection');
    c.className = 'live ' + (ok ? 'ok' : 'error');
    c.setAttribute('data-state', ok ? 'ok' : 'error');
    setText('updated', message);
  }

  function poll() {
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    fetch('status', { cache: 'no-store', signal: controller ? controller.signal : undefined })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (s) {
        if (!s || typeof s !== 'object') throw new Error('unexpected answer');
        lastStatus = s;
        lastOkAt = Date.now();
        render(s);
        setConnection(true, 'live · updated ' + fmtClock(lastOkAt));
      })
      .catch(function (err) {
        var why = err && err.name === 'AbortError' ? 'timed out' : (err && err.message) || 'failed';
        setConnection(false, '/status ' + why + (lastOkAt ? ' · last data ' + fmtClock(lastOkAt) : '') + ' · retrying');
      })
      .then(function () {
        if (timer) clearTimeout(timer);
        setTimeout(poll, POLL_MS);
      });
  }

  window.addEventListener('resize', function () { if (lastStatus) drawChart(historyOf({ history: lastStatus.history })); });
  poll();
})();
</script>
</body>
</html>
`;
