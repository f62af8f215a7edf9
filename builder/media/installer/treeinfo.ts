// .treeinfo (productmd INI, and the older [general] form): what the base is, where its
// boot images are, and which package repositories it carries.

export interface TreeInfo {
  /** "Rocky Linux 9.2", "XS 7.1"; "unknown" without a .treeinfo. */
  version: string;
  releasever?: string;
  arch?: string;
  kernel?: string;
  initrd?: string;
  efiboot?: string;
  /** Repositories on the media: a name and a directory relative to the root ("." for the root). */
  repos: { name: string; path: string }[];
}

export function parseIni(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let cur: Map<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const l = raw.trim();
    if (!l || l.startsWith('#') || l.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(l);
    if (sec) {
      cur = new Map();
      out.set(sec[1].trim(), cur);
      continue;
    }
    const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(l);
    if (kv && cur) cur.set(kv[1].trim(), kv[2].trim());
  }
  return out;
}

export function parseTreeInfo(text: string | undefined): TreeInfo {
  if (text === undefined) return { version: 'unknown', repos: [] };
  const ini = parseIni(text);
  const rel = ini.get('release');
  const gen = ini.get('general');
  const name = rel?.get('name') ?? gen?.get('family');
  const ver = rel?.get('version') ?? gen?.get('version');
  const arch = ini.get('tree')?.get('arch') ?? gen?.get('arch') ?? 'x86_64';
  const images = ini.get(`images-${arch}`);
  const repos: TreeInfo['repos'] = [];
  const variants = (ini.get('tree')?.get('variants') ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  for (const v of variants) {
    const repo = ini.get(`variant-${v}`)?.get('repository');
    if (repo) repos.push({ name: v, path: repo.replace(/^\.\/?$/, '.').replace(/\/$/, '') || '.' });
  }
  if (repos.length === 0 && gen?.get('repository')) repos.push({ name: 'base', path: gen.get('repository')!.replace(/\/$/, '') || '.' });
  return {
    version: [name, ver].filter(Boolean).join(' ') || 'unknown',
    releasever: ver,
    arch,
    kernel: images?.get('kernel'),
    initrd: images?.get('initrd'),
    efiboot: images?.get('efiboot.img'),
    repos,
  };
}
