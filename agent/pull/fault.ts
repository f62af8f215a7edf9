// Fault injection for the crash tests: with XS_AGENT_FAULT_AT=N the agent kills itself
// with SIGKILL at the N-th fault point (a place where a power cut could happen: after a
// chunk, a staged file, a journal write, a rename...). XS_AGENT_FAULT_COUNT=FILE writes
// how many points a run passed, so a test can spread its kills over the whole run.
// Without these variables a fault point only counts.
import { writeFileSync } from 'node:fs';

let passed = 0;
const at = Number(process.env.XS_AGENT_FAULT_AT ?? 0);
const countFile = process.env.XS_AGENT_FAULT_COUNT;
if (countFile) process.on('exit', () => writeFileSync(countFile, String(passed)));

export function faultPoint(_where: string): void {
  passed++;
  if (at > 0 && passed === at) process.kill(process.pid, 'SIGKILL');
}
