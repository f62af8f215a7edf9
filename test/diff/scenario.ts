// Two releases of a demo site, built the way the pipeline lays out an ISO, differing in
// exactly: one layer's version, one added and one removed package, one kickstart line,
// one boot argument, one changed library file and one renamed file.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { BootEntry } from '../../builder/manifest-types.js';
import { buildRpm, makeIso, makeRepo, writeManifest, writeTree, type ReleaseMeta } from './fixtures.js';

export interface ReleaseOptions {
  release: string;
  schoolLayer: string;
  packages: { name: string; version: string }[];
  requested: string[];
  timezone: string;
  extraArg: string[];
  wikiPage: string;
  guideName: string;
  manifest: boolean;
}

export const R1: ReleaseOptions = {
  release: '2024.05',
  schoolLayer: '2.0',
  packages: [{ name: 'xs-base', version: '1.0' }, { name: 'nano', version: '5.0' }],
  requested: ['@core', 'nano', 'xs-base'],
  timezone: 'Europe/Madrid',
  extraArg: [],
  wikiPage: 'Bienvenidos\n',
  guideName: 'guide.txt',
  manifest: true,
};

export const R2: ReleaseOptions = {
  ...R1,
  release: '2024.06',
  schoolLayer: '2.1',
  packages: [{ name: 'xs-base', version: '1.0' }, { name: 'htop', version: '3.0' }],
  requested: ['@core', 'htop', 'xs-base'],
  timezone: 'UTC',
  extraArg: ['inst.text'],
  wikiPage: 'Bienvenidos a la escuela\n',
  guideName: 'manual.txt',
};

// Fixed "random" content, so both releases share the bytes that should not differ.
const KERNEL = randomBytes(300_000);
const INITRD = randomBytes(500_000);
const VIDEO = randomBytes(200_000);
const GUIDE = randomBytes(40_000);

const rpmCache = new Map<string, Promise<string>>();

export async function buildRelease(work: string, name: string, o: ReleaseOptions): Promise<{ iso: string; root: string }> {
  const root = join(work, name);
  const args = ['inst.stage2=hd:LABEL=XS-RIOJA', 'inst.ks=hd:LABEL=XS-RIOJA:/ks.cfg', 'quiet'];
  const entries: BootEntry[] = [
    { config: 'isolinux/isolinux.cfg', label: 'linux', kernel: '/images/pxeboot/vmlinuz', initrd: ['/images/pxeboot/initrd.img'], args: [...args, ...o.extraArg] },
    { config: 'EFI/BOOT/grub.cfg', label: 'Install XS', kernel: '/images/pxeboot/vmlinuz', initrd: ['/images/pxeboot/initrd.img'], args },
  ];
  await writeTree(root, {
    'isolinux/isolinux.cfg': [
      'default linux',
      'timeout 50',
      'label linux',
      '  menu label ^Install XS',
      `  kernel ${entries[0].kernel}`,
      `  append initrd=${entries[0].initrd.join(',')} ${entries[0].args.join(' ')}`,
      'label local',
      '  localboot 0xffff',
      '',
    ].join('\n'),
    'EFI/BOOT/grub.cfg': [
      'set timeout=5',
      `menuentry '${entries[1].label}' --class fedora {`,
      `  linuxefi ${entries[1].kernel} ${entries[1].args.join(' ')}`,
      `  initrdefi ${entries[1].initrd.join(' ')}`,
      '}',
      '',
    ].join('\n'),
    'images/pxeboot/vmlinuz': KERNEL,
    'images/pxeboot/initrd.img': INITRD,
    'ks.cfg': ['text', 'lang es_ES.UTF-8', `timezone ${o.timezone}`, 'rootpw --lock', '%packages', ...o.requested, '%end', ''].join('\n'),
    'library/wiki/index.html': o.wikiPage,
    'library/video/intro.webm': VIDEO,
    [`docs/${o.guideName}`]: GUIDE,
  });
  const rpms = await Promise.all(o.packages.map((p) => {
    const key = `${p.name}-${p.version}`;
    if (!rpmCache.has(key)) rpmCache.set(key, buildRpm(join(work, 'rpms', key), { name: p.name, version: p.version, release: '1' }));
    return rpmCache.get(key)!;
  }));
  await makeRepo(root, 'repo', rpms);
  if (o.manifest) {
    const meta: ReleaseMeta = {
      site: 'rioja',
      release: o.release,
      volumeId: 'XS-RIOJA',
      layers: [
        { name: 'base', version: '1.0', contentSha256: 'a'.repeat(64) },
        { name: 'school', version: o.schoolLayer, contentSha256: o.schoolLayer === '2.0' ? 'b'.repeat(64) : 'c'.repeat(64) },
      ],
      packages: o.requested,
      bootEntries: entries,
      library: ['/library'],
    };
    await writeManifest(root, meta);
  }
  const iso = join(work, `${name}.iso`);
  await makeIso(root, iso, 'XS-RIOJA');
  return { iso, root };
}
