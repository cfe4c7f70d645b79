// A stand-in search engine for the pipeline CPU benchmark, run in its own process so its CPU is not
// counted: answers `_bulk` like Elasticsearch 9 does (every item 201), honouring `filter_path` for the
// two shapes the service may ask for, and `GET /` like an engine's root.
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (!req.url?.includes('_bulk')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ version: { number: '9.5.3' }, tagline: 'fake' }));
      return;
    }
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    // Action lines are every other line for index/create (this benchmark sends no deletes).
    const lines = body.toString('latin1').split('\n');
    const items: string[] = [];
    const filtered = /filter_path=/.test(req.url);
    for (let i = 0; i < lines.length - 1; i += 2) {
      const action = lines[i]!.slice(2, lines[i]!.indexOf('"', 2));
      items.push(filtered ? `{"${action}":{"status":201}}` : `{"${action}":{"_index":"bench","_id":"x","_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":${i},"_primary_term":1,"status":201}}`);
    }
    const text = filtered ? `{"errors":false,"items":[${items.join(',')}]}` : `{"errors":false,"took":3,"items":[${items.join(',')}]}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(text);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
