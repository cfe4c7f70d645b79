import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from '../../bench/lib/args.js';
import { peerRate, type PeerProgress } from '../../bench/lib/peer.js';

const at = (t: number, indexed: number, cpu = t / 2, rss = 60 << 20): PeerProgress => ({ t, indexed, cpu, rss });

describe('bench reference peer', () => {
  it('rates the documents acknowledged after the first batch over the time from it to the N-th (as the service catch-up)', () => {
    // Batches of 5,000 every 0.25 s: 20,000 documents/s, whatever the first batch's start-up cost.
    const r = peerRate([at(10, 5000), at(10.25, 10_000), at(10.5, 15_000), at(10.75, 20_000, 10.75 / 2, 70 << 20)], 20_000);
    assert.equal(r.complete, true);
    assert.equal(r.docs, 20_000);
    assert.equal(r.seconds, 0.75);
    assert.equal(r.docsPerSec, 20_000);
    assert.equal(r.cpuPer100k, (0.375 / 15_000) * 1e5);
    assert.equal(r.peakRss, 70 << 20);
  });

  it('stops at the N-th document, and reports an incomplete run as such', () => {
    assert.equal(peerRate([at(0, 5000), at(1, 10_000), at(2, 10_000)], 10_000).seconds, 1);
    const short = peerRate([at(0, 5000), at(1, 10_000)], 20_000);
    assert.equal(short.complete, false);
    assert.equal(short.docs, 10_000);
    assert.equal(peerRate([], 10).complete, false);
    assert.ok(Number.isNaN(peerRate([at(0, 5000)], 5000).docsPerSec), 'one batch has no interval to measure');
  });

  it('is a phase --skip knows', () => {
    const args = parseArgs(['--quick', '--skip', 'peer,naive']);
    assert.ok(args !== 'help' && args.skip.has('peer') && args.skip.has('naive'));
  });
});
