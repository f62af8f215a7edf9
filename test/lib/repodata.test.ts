// The one primary.xml / repomd.xml parser the build and `diff` share: XML entities,
// character references, CDATA and both quote styles read as XML defines them, and a
// broken document or package named by file and line.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileFormatError } from '../../lib/errors.js';
import { parsePrimary, primaryHref } from '../../lib/repodata.js';

const NS = `xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm"`;

describe('lib/repodata', () => {
  it('reads entities, character references and both quote styles in text and attributes', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<metadata ${NS} packages="2">
<package type="rpm">
  <name>a&amp;b&lt;c&gt;&quot;d&apos;</name>
  <arch>x86_64</arch>
  <version epoch="2" ver="1.0&#x2B;git" rel='3.el9&#46;1'/>
  <checksum type='sha256' pkgid="YES">ab&#x63;d</checksum>
  <location href='Packages/a&amp;b-1.0+git-3.el9.1.x86_64.rpm'/>
  <format><rpm:entry name="not-the-name" epoch="9" ver="9" rel="9"/></format>
</package>
<package type='rpm'>
  <name><![CDATA[x<y]]></name>
  <arch>noarch</arch>
  <version ver="&#233;t&#xE9;" rel="1" epoch="0"/>
  <location href="Packages/say &quot;hi&quot;.rpm"/>
</package>
</metadata>`;
    assert.deepEqual(parsePrimary(xml, 'p.xml'), [
      { name: 'a&b<c>"d\'', arch: 'x86_64', epoch: 2, version: '1.0+git', release: '3.el9.1', href: 'Packages/a&b-1.0+git-3.el9.1.x86_64.rpm', checksumType: 'sha256', checksum: 'abcd' },
      { name: 'x<y', arch: 'noarch', epoch: 0, version: 'été', release: '1', href: 'Packages/say "hi".rpm', checksumType: '', checksum: '' },
    ]);
  });

  it('finds the primary metadata in repomd.xml whatever the quotes and attribute order', () => {
    const md = `<repomd xmlns="http://linux.duke.edu/metadata/repo">
  <data type="filelists"><location href="repodata/f.xml.gz"/></data>
  <data id='x' type='primary'><checksum type="sha256">00</checksum><location href='repodata/p&amp;q-primary.xml.zst'/></data>
</repomd>`;
    assert.equal(primaryHref(md, 'repomd.xml'), 'repodata/p&q-primary.xml.zst');
    assert.throws(() => primaryHref('<repomd><data type="other"/></repomd>', 'r/repomd.xml'), (e: unknown) => e instanceof FileFormatError && /^r\/repomd\.xml: no <data type="primary">/.test(e.message));
  });

  it('names the file and line of a broken <package> or of XML that is not well-formed', () => {
    assert.throws(() => parsePrimary('<metadata>\n<package type="rpm"><name>x</name></package></metadata>', 'b.iso:/r/repodata/p.xml'),
      (e: unknown) => e instanceof FileFormatError && /^b\.iso:\/r\/repodata\/p\.xml:2: <package> without name, arch, version or location/.test(e.message));
    assert.throws(() => parsePrimary('<metadata>\n<package type="rpm"><name>a & b</name></package></metadata>', 'p.xml'),
      (e: unknown) => e instanceof FileFormatError && /^p\.xml:2:\d+: not well-formed XML/.test(e.message));
  });
});
