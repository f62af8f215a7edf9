// A node --test reporter that closes the run with one plain line, "N passed, N failed,
// N skipped", and the name and reason of every skipped test, so a skip is never lost in
// the output. Used beside the spec reporter by `make test`.
import type { TestEvent } from 'node:test/reporters';

interface Skip {
  name: string;
  file?: string;
  reason: string;
}

export default async function* summary(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  let passed = 0;
  let failed = 0;
  let todo = 0;
  const skipped: Skip[] = [];
  const failures: string[] = [];
  for await (const ev of source) {
    if (ev.type !== 'test:pass' && ev.type !== 'test:fail') continue;
    const d = ev.data as { name: string; file?: string; skip?: string | boolean; todo?: string | boolean; details: { type?: string } };
    // A suite's own pass/fail repeats what its tests said.
    if (d.details.type === 'suite') continue;
    if (d.skip !== undefined && d.skip !== false) skipped.push({ name: d.name, file: d.file, reason: typeof d.skip === 'string' ? d.skip : '' });
    else if (d.todo !== undefined && d.todo !== false) todo++;
    else if (ev.type === 'test:pass') passed++;
    else {
      failed++;
      failures.push(`${d.name}${d.file ? ` (${d.file})` : ''}`);
    }
  }
  if (skipped.length) {
    yield `\nskipped tests:\n${skipped.map((s) => `- ${s.name}${s.file ? ` (${s.file})` : ''}: ${s.reason || 'no reason given'}`).join('\n')}\n`;
  }
  if (failures.length) yield `\nfailed tests:\n${failures.map((f) => `- ${f}`).join('\n')}\n`;
  // Under CI every tool is installed and the run is root: a skip there is a defect.
  if (process.env.CI === 'true' && skipped.length) {
    process.exitCode = 1;
    yield `\nCI=true: ${skipped.length} skipped test${skipped.length === 1 ? '' : 's'} count as failures (see above)\n`;
  }
  const total = passed + failed + skipped.length + todo;
  yield `\nran ${total} tests${todo ? ` (${todo} todo)` : ''}\n`;
  yield `tests: ${passed} passed, ${failed} failed, ${skipped.length} skipped\n`;
}
