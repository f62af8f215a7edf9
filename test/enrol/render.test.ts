// The site's fleet section reaches the agent: the xs-agent layer renders it into the
// agent config in the kickstart, and the agent accepts that config; a bad fleet URL in
// the site is exit 2 naming the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { validateSite } from '../../builder/pipeline.js';
import { parseConfig } from '../../agent/config.js';
import { scratchProject, removeProject, runCli } from '../helpers/project.js';

const FLEET = { url: 'https://office.rioja.example/fleet/', publicKey: 'XEHkcj9v82U2csMf7ftt20dJJ4HwYhpgdCHpkO62NiU=' };

function agentConfigOf(kickstart: string): string {
  const m = /cat > \/mnt\/sysimage\/etc\/xs-agent\/config\.json <<'XSEOF'\n([\s\S]*?)\nXSEOF/.exec(kickstart);
  assert.ok(m, 'the kickstart writes the agent config');
  return m[1]!;
}

test('fleet in the site is rendered into the agent config, which the agent accepts', async (t) => {
  const dir = await scratchProject('xs-fleet-render-');
  t.after(() => removeProject(dir));
  const file = path.join(dir, 'sites', 'rioja.yaml');
  const plain = await validateSite({ site: file });
  assert.equal(parseConfig(agentConfigOf(plain.kickstart), 'config.json').fleet, undefined, 'no fleet in the site, none in the config');
  await writeFile(file, (await readFile(file, 'utf8')) + `fleet:\n  url: ${FLEET.url}\n  publicKey: "${FLEET.publicKey}"\n`);
  const v = await validateSite({ site: file });
  const cfg = parseConfig(agentConfigOf(v.kickstart), 'config.json');
  assert.deepEqual(cfg.fleet, FLEET);
  assert.doesNotMatch(v.kickstart, /enrol-token/, 'no token without --enrol-tokens');

  await writeFile(file, (await readFile(file, 'utf8')).replace(FLEET.url, 'https://office.rioja.example/fleet'));
  const bad = await runCli(['validate', file]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /rioja\.yaml:\d+:\d+: fleet\.url/);
});
