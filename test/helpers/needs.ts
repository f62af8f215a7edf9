// A test that cannot run because this machine lacks a tool, a package or a permission is
// a skip on a developer's machine and a failure under CI (CI=true): CI installs every
// .ci/apt-*.txt package and runs as root, so there a missing piece is a defect, not a
// reason to pass quietly.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

export const IN_CI = process.env.CI === 'true';

/**
 * Returns true when the test may go on. Otherwise skips it (outside CI) or fails it
 * (under CI), saying what is missing.
 */
export function needs(t: TestContext, missing: string | undefined): boolean {
  if (!missing) return true;
  if (IN_CI) assert.fail(`${missing} (under CI=true a missing tool, package or permission fails the test: .ci/run installs every .ci/apt-*.txt package and runs as root)`);
  t.skip(missing);
  return false;
}

/** The reason a test needs root, or undefined when it runs as root. */
export function rootOnly(why: string): string | undefined {
  return process.getuid?.() === 0 ? undefined : `needs root (${why})`;
}
