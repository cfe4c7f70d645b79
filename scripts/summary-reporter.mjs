// A node:test reporter that prints one summary line: how many tests passed, failed and were skipped.
export default async function* summaryReporter(source) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const started = Date.now();
  for await (const event of source) {
    // Count tests, not the describe() blocks around them.
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.details?.type === 'suite') continue;
    if (event.data.skip || event.data.todo) counts.skipped++;
    else if (event.type === 'test:pass') counts.passed++;
    else counts.failed++;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  yield `\nTEST SUMMARY: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped (${seconds}s)\n`;
}
