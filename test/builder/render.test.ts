// Unit tests: kickstart and boot config rendering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSite } from '../../builder/site.js';
import { resolveLayers } from '../../builder/layers.js';
import { renderKickstart, renderBootConfigs } from '../../builder/render.js';
import { PROJECT_DIR } from '../../builder/paths.js';

test('rioja kickstart: commands, merged packages, fragments in layer order', async () => {
  const site = await loadSite('rioja', { root: PROJECT_DIR });
  const layers = await resolveLayers(site);
  const ks = await renderKickstart({ site, layers, mediaRoot: '/run/install/repo', repos: [] });
  assert.match(ks, /^timezone America\/Argentina\/La_Rioja --utc$/m);
  assert.match(ks, /^rootpw --iscrypted \$6\$/m);
  assert.match(ks, /^network --bootproto=dhcp --hostname=schoolserver\.rioja\.escuelas\.example$/m);
  assert.match(ks, /^logvol \/library --vgname=vg_xs/m, 'xs-standard partitioning');
  const pkgs = /%packages\n([\s\S]*?)%end/.exec(ks)?.[1].trim().split('\n');
  assert.deepEqual(pkgs, ['@core', 'chrony', 'openssh-server', 'rsync', 'NetworkManager', 'dnsmasq', 'httpd', 'squid', 'libatomic', '-plymouth']);
  const post = ks.indexOf('%post --log');
  const order = ['# --- layer xs-core', '# --- layer content-library', '# --- layer web-filter', '# --- layer xs-agent'].map((m) => ks.indexOf(m, post));
  assert.ok(order.every((p, i) => p > post && (i === 0 || p > order[i - 1])), `post fragments out of order: ${order}`);
  assert.match(ks, /cp -a \/run\/install\/repo\/xsbuild\/root\/\. \/mnt\/sysimage\//);
  assert.match(ks, /^mkdir -p \/library\/local$/m);
});

test('a machine record gets its own hostname', async () => {
  const site = await loadSite('rioja', { root: PROJECT_DIR });
  const layers = await resolveLayers(site);
  const machine = site.data.machines![0];
  const ks = await renderKickstart({ site, layers, machine, mediaRoot: '/run/install/repo', repos: [] });
  assert.match(ks, /^network --bootproto=dhcp --hostname=escuela-101\.rioja\.escuelas\.example$/m);
  assert.match(ks, /"hostname": "escuela-101"/);
});

test('every boot entry of every loader carries the same kernel arguments', async () => {
  const site = await loadSite('paraguay', { root: PROJECT_DIR });
  const boot = await renderBootConfigs({ site, kernel: '/images/pxeboot/vmlinuz', initrds: ['/a.img', '/b.img'], baseArgs: ['console=ttyS0'] });
  const want = 'inst.stage2=hd:LABEL=XS-PARAGUAY-2026_2 inst.ks=hd:LABEL=XS-PARAGUAY-2026_2:/ks.cfg console=ttyS0 nomodeset';
  const isolinux = boot.isolinuxCfg.split('\n').filter((l) => l.trim().startsWith('APPEND'));
  const grub = boot.grubCfg.split('\n').filter((l) => l.trim().startsWith('linux '));
  assert.equal(isolinux.length, 2);
  assert.equal(grub.length, 2);
  for (const l of isolinux) assert.ok(l.includes(`initrd=/a.img,/b.img ${want}`), l);
  for (const l of grub) assert.ok(l.includes(`/images/pxeboot/vmlinuz ${want}`), l);
  assert.match(boot.grubCfg, /search --no-floppy --set=root -l 'XS-PARAGUAY-2026_2'/);
  assert.match(boot.isolinuxCfg, /^TIMEOUT 20$/m);
});

test('the agent accepts the config.json the xs-agent layer writes, for every machine record', async () => {
  const { parseConfig } = await import('../../agent/config.js');
  const site = await loadSite('rioja', { root: PROJECT_DIR });
  const layers = await resolveLayers(site);
  for (const machine of [undefined, ...site.data.machines!]) {
    const ks = await renderKickstart({ site, layers, machine, mediaRoot: '/run/install/repo', repos: [] });
    const m = /cat > \/mnt\/sysimage\/etc\/xs-agent\/config\.json <<'XSEOF'\n([\s\S]*?)XSEOF/.exec(ks);
    assert.ok(m, 'no config.json heredoc in the kickstart');
    const cfg = parseConfig(m[1], 'config.json');
    assert.equal(cfg.site, 'rioja');
    assert.equal(cfg.roles.length, machine ? 2 : 0);
  }
});

test('netboot kickstarts fetch layer files from the install server', async () => {
  const site = await loadSite('rioja', { root: PROJECT_DIR });
  const layers = await resolveLayers(site);
  const ks = await renderKickstart({ site, layers, mediaRoot: 'http://10.0.2.2:8080/rioja', repos: [] });
  assert.doesNotMatch(ks, /cp -a/);
  assert.match(ks, /^curl -fsS --retry 3 --create-dirs -o \/mnt\/sysimage\/etc\/motd http:\/\/10\.0\.2\.2:8080\/rioja\/xsbuild\/root\/etc\/motd$/m);
  assert.match(ks, /^curl -fsS --retry 5 -o \/mnt\/sysimage\/usr\/sbin\/xs-agent\.part http:\/\/10\.0\.2\.2:8080\/rioja\/xsbuild\/xs-agent$/m);
});
