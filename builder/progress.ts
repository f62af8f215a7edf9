// Progress for long steps: a rewriting status line on a TTY, plain lines in CI
// (CI=true or not a TTY), JSON events (one per line on stdout) with --json.
import { errorText } from '../lib/errors.js';
import type { Problem } from './errors.js';

export type ProgressMode = 'tty' | 'plain' | 'json';

export interface Reporter {
  stage(name: string, detail?: string): void;
  percent(stage: string, pct: number): void;
  info(msg: string): void;
  result(data: object): void;
  error(p: Problem): void;
}

export function progressMode(json: boolean): ProgressMode {
  if (json) return 'json';
  if (process.env.CI === 'true' || !process.stderr.isTTY) return 'plain';
  return 'tty';
}

export function reporter(mode: ProgressMode): Reporter {
  const t0 = Date.now();
  const secs = () => ((Date.now() - t0) / 1000).toFixed(1).padStart(5);
  let lastPct = -10;
  let live = false;
  const clearLive = () => {
    if (live) process.stderr.write('\r\x1b[K');
    live = false;
  };
  const emit = (ev: object) => process.stdout.write(JSON.stringify({ t: Date.now() - t0, ...ev }) + '\n');
  return {
    stage(name, detail) {
      lastPct = -10;
      if (mode === 'json') return emit({ event: 'stage', stage: name, detail });
      clearLive();
      process.stderr.write(`[${secs()}s] ${name}${detail ? `: ${detail}` : ''}\n`);
    },
    percent(stage, pct) {
      if (mode === 'json') return emit({ event: 'progress', stage, percent: pct });
      if (mode === 'tty') {
        process.stderr.write(`\r\x1b[K[${secs()}s] ${stage} ${pct.toFixed(1)}%`);
        live = true;
      } else if (pct >= lastPct + 25 || (pct >= 100 && lastPct < 100)) {
        // CI logs: a line per quarter, not per update.
        lastPct = pct;
        process.stderr.write(`[${secs()}s] ${stage} ${pct.toFixed(0)}%\n`);
      }
    },
    info(msg) {
      if (mode === 'json') return emit({ event: 'info', message: msg });
      clearLive();
      process.stderr.write(`         ${msg}\n`);
    },
    result(data) {
      if (mode === 'json') return emit({ event: 'result', ...data });
    },
    error(p) {
      if (mode === 'json') return emit({ event: 'error', ...p });
      clearLive();
      process.stderr.write(`${errorText(p.message, p.hint, p.output)}\n`);
    },
  };
}

export const silentReporter: Reporter = { stage() {}, percent() {}, info() {}, result() {}, error() {} };
