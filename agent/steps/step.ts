// The contract every first-boot step follows.
import type { AgentConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Target } from '../target.js';
import type { StepResult } from '../status.js';

export interface StepContext {
  target: Target;
  config: AgentConfig;
  log: Logger;
  /** Aborted when the step's time is up; long work must stop promptly. */
  signal: AbortSignal;
  /** Milliseconds left before the step's deadline. */
  remainingMs: () => number;
}

export interface StepOutcome {
  result: Extract<StepResult, 'ok' | 'skipped' | 'degraded' | 'needs-fix' | 'failed'>;
  notes: string[];
  error?: string;
}

export interface Step {
  name: string;
  /** Seconds the step may take, from the config. */
  timeoutSec: (c: AgentConfig) => number;
  run: (ctx: StepContext) => Promise<StepOutcome>;
}

/** A step error that an operator has to fix (config or machine); maps to needs-fix. */
export class NeedsFix extends Error {}
