import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kickstartFromArgs, parseBootConfig, splitArgs } from '../../builder/diff/bootconfig.js';

// Shapes taken from Rocky/Fedora installer media.
const ISOLINUX = `default vesamenu.c32
timeout 600
menu title Rocky Linux 9.3
label linux
  menu label ^Install Rocky Linux 9.3
  kernel vmlinuz
  append initrd=initrd.img inst.stage2=hd:LABEL=Rocky-9-3-x86_64-dvd quiet
label check
  menu label Test this ^media & install Rocky Linux 9.3
  menu default
  kernel vmlinuz
  append initrd=initrd.img,overlay.img inst.stage2=hd:LABEL=Rocky-9-3-x86_64-dvd rd.live.check quiet
menu separator
label local
  menu label Boot from ^local drive
  localboot 0xffff
`;

const GRUB = `set default="1"
function load_video {
  insmod all_video
}
set timeout=60
search --no-floppy --set=root -l 'Rocky-9-3-x86_64-dvd'
menuentry 'Install Rocky Linux 9.3' --class fedora --class gnu-linux --class gnu --class os {
	linuxefi /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=Rocky-9-3-x86_64-dvd inst.ks=hd:LABEL=Rocky-9-3-x86_64-dvd:/ks.cfg quiet
	initrdefi /images/pxeboot/initrd.img
}
submenu 'Troubleshooting -->' {
	menuentry 'Install Rocky Linux 9.3 in text mode' --class fedora {
		linux /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=Rocky-9-3-x86_64-dvd inst.text "console=ttyS0,115200n8" quiet
		initrd /images/pxeboot/initrd.img /images/xsbuild/overlay.img
	}
}
`;

describe('boot config parsing', () => {
  it('isolinux: label, kernel, initrd= out of append, and no entry for localboot', () => {
    const e = parseBootConfig('/isolinux/isolinux.cfg', ISOLINUX);
    assert.deepEqual(e, [
      { config: 'isolinux/isolinux.cfg', label: 'linux', kernel: 'vmlinuz', initrd: ['initrd.img'], args: ['inst.stage2=hd:LABEL=Rocky-9-3-x86_64-dvd', 'quiet'] },
      { config: 'isolinux/isolinux.cfg', label: 'check', kernel: 'vmlinuz', initrd: ['initrd.img', 'overlay.img'], args: ['inst.stage2=hd:LABEL=Rocky-9-3-x86_64-dvd', 'rd.live.check', 'quiet'] },
    ]);
  });

  it('grub: menuentry titles, linuxefi/linux, initrd lists, quoted args, submenus', () => {
    const e = parseBootConfig('/EFI/BOOT/grub.cfg', GRUB);
    assert.deepEqual(e.map((x) => [x.config, x.label, x.kernel, x.initrd, x.args]), [
      ['EFI/BOOT/grub.cfg', 'Install Rocky Linux 9.3', '/images/pxeboot/vmlinuz', ['/images/pxeboot/initrd.img'],
        ['inst.stage2=hd:LABEL=Rocky-9-3-x86_64-dvd', 'inst.ks=hd:LABEL=Rocky-9-3-x86_64-dvd:/ks.cfg', 'quiet']],
      ['EFI/BOOT/grub.cfg', 'Install Rocky Linux 9.3 in text mode', '/images/pxeboot/vmlinuz', ['/images/pxeboot/initrd.img', '/images/xsbuild/overlay.img'],
        ['inst.stage2=hd:LABEL=Rocky-9-3-x86_64-dvd', 'inst.text', 'console=ttyS0,115200n8', 'quiet']],
    ]);
  });

  it('finds the kickstart named by inst.ks=', () => {
    assert.equal(kickstartFromArgs(parseBootConfig('/EFI/BOOT/grub.cfg', GRUB)), '/ks.cfg');
    assert.equal(kickstartFromArgs([{ config: 'x', label: 'l', kernel: 'k', initrd: [], args: ['ks=cdrom:/isolinux/ks.cfg'] }]), '/isolinux/ks.cfg');
    assert.equal(kickstartFromArgs([{ config: 'x', label: 'l', kernel: 'k', initrd: [], args: ['inst.ks=http://10.0.2.2/ks.cfg'] }]), null);
  });

  it('splits words like grub, keeping quoted spaces', () => {
    assert.deepEqual(splitArgs(`a "b c" 'd e' f""`), ['a', 'b c', 'd e', 'f']);
    assert.deepEqual(splitArgs(`x ""`), ['x', '']);
  });
});
