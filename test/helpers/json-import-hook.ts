// A module load hook for tests: lets Node load the JSON files that
// @actions/workflow-parser imports without import attributes (its build expects a bundler).
import { readFile } from 'node:fs/promises';

type Next = (url: string, context: unknown) => Promise<unknown>;

export async function load(url: string, context: unknown, next: Next): Promise<unknown> {
  if (url.endsWith('.json') && url.includes('/@actions/')) {
    return { format: 'json', shortCircuit: true, source: await readFile(new URL(url), 'utf8') };
  }
  return next(url, context);
}
