// Entry point of the xs-agent executable.
import { main } from './cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`xs-agent: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
