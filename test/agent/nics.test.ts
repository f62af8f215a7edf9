import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TargetFs } from '../../agent/fsutil.js';
import { discoverNics } from '../../agent/nics.js';
import { addNic, makeRoot, MAC_A, MAC_B, MAC_C } from './fixtures.js';

test('discovery keeps physical Ethernet NICs and skips lo, virtual and non-Ethernet ones', async (t) => {
  const root = makeRoot(t);
  addNic(root, { name: 'lo', mac: '00:00:00:00:00:00', virtual: true, type: 772 });
  addNic(root, { name: 'ens3', mac: MAC_A.toUpperCase(), up: true, driver: 'e1000e' });
  addNic(root, { name: 'br0', mac: MAC_A, virtual: true });
  addNic(root, { name: 'ib0', mac: MAC_C, type: 32 });
  addNic(root, { name: 'wlp2s0', mac: MAC_C, wireless: true });
  addNic(root, { name: 'ens4', mac: '02:00:00:00:00:09', addrAssignType: 3 });
  const nics = await discoverNics(new TargetFs(root));
  assert.deepEqual(nics, [
    { name: 'ens3', mac: MAC_A, permanent: true, wireless: false, up: true, driver: 'e1000e' },
    { name: 'ens4', mac: '02:00:00:00:00:09', permanent: false, wireless: false, up: false },
    { name: 'wlp2s0', mac: MAC_C, permanent: true, wireless: true, up: false },
  ]);
});

test('a bonded NIC is known by its own permanent address, not the bond\'s', async (t) => {
  const root = makeRoot(t);
  addNic(root, { name: 'ens3', mac: MAC_A, permHwaddr: MAC_A });
  addNic(root, { name: 'ens4', mac: MAC_A, permHwaddr: MAC_B, addrAssignType: 3 });
  const nics = await discoverNics(new TargetFs(root));
  assert.deepEqual(nics.map((n) => [n.name, n.mac, n.permanent]), [['ens3', MAC_A, true], ['ens4', MAC_B, true]]);
});

test('a root without sysfs says so', async (t) => {
  const root = makeRoot(t);
  await assert.rejects(discoverNics(new TargetFs(`${root}/nowhere`)), /sys\/class\/net not found: sysfs is not mounted/);
});
