// Boot configs of the fixture base, modelled on a RHEL 9 / Rocky 9 DVD (lorax
// templates): vesamenu isolinux with a "Test this media" default, a Troubleshooting
// submenu (basic graphics, rescue, memtest, local boot), and GRUB configs with a
// submenu. The label has spaces, so the kernel arguments carry it udev-escaped.

export const LABEL = 'XS 7 x86_64';
export const ESCAPED = 'XS\\x207\\x20x86_64';

export const ISOLINUX_CFG = `default vesamenu.c32
timeout 10

display boot.msg

# Clear the screen when exiting the menu, instead of leaving the menu displayed.
# For vesamenu, this means the graphical background is still displayed without
# the menu itself for as long as the screen remains in graphics mode.
menu clear
menu title XS 7
menu vshift 8
menu rows 18
menu margin 8
#menu hidden
menu helpmsgrow 15
menu tabmsgrow 13

# Border Area
menu color border * #00000000 #00000000 none

# Selected item
menu color sel 0 #ffffffff #00000000 none

menu tabmsg Press Tab for full configuration options on menu items.

menu separator # insert an empty line
menu separator # insert an empty line

label linux
  menu label ^Install XS 7
  kernel vmlinuz
  append initrd=initrd.img inst.stage2=hd:LABEL=${ESCAPED} quiet

label check
  menu label Test this ^media & install XS 7
  menu default
  kernel vmlinuz
  append initrd=initrd.img inst.stage2=hd:LABEL=${ESCAPED} rd.live.check quiet

menu separator # insert an empty line

# utilities submenu
menu begin ^Troubleshooting
  menu title Troubleshooting XS 7

label basic
  menu indent count 5
  menu label Install using ^basic graphics mode
  text help
	Try this option out if you're having trouble installing
	XS 7.
  endtext
  kernel vmlinuz
  append initrd=initrd.img inst.stage2=hd:LABEL=${ESCAPED} nomodeset quiet

label rescue
  menu indent count 5
  menu label ^Rescue a XS system
  text help
	If the system will not boot, this lets you access files
	and edit config files to try to get it booting again.
  endtext
  kernel vmlinuz
  append initrd=initrd.img inst.stage2=hd:LABEL=${ESCAPED} inst.rescue quiet

label memtest
  menu label Run a ^memory test
  text help
	If your system is having issues, a problem with your
	system's memory may be the cause. Use this utility to
	see if the memory is working correctly.
  endtext
  kernel memtest

menu separator # insert an empty line

label local
  menu label Boot from ^local drive
  localboot 0xffff

menu separator # insert an empty line
menu separator # insert an empty line

label returntomain
  menu label Return to ^main menu
  menu exit

menu end
`;

/** GRUB on the ISO and in efiboot.img; `linux` selects linux/initrd or linuxefi/initrdefi. */
export function grubCfg(linux: 'linux' | 'linuxefi'): string {
  const initrd = linux === 'linux' ? 'initrd' : 'initrdefi';
  return `set default="1"

function load_video {
  insmod efi_gop
  insmod efi_uga
  insmod video_bochs
  insmod video_cirrus
  insmod all_video
}

load_video
set gfxpayload=keep
insmod gzio
insmod part_gpt
insmod ext2

set timeout=1
### END /etc/grub.d/00_header ###

search --no-floppy --set=root -l '${LABEL}'

### BEGIN /etc/grub.d/10_linux ###
menuentry 'Install XS 7' --class fedora --class gnu-linux --class gnu --class os {
\t${linux} /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=${ESCAPED} quiet
\t${initrd} /images/pxeboot/initrd.img
}
menuentry 'Test this media & install XS 7' --class fedora --class gnu-linux --class gnu --class os {
\t${linux} /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=${ESCAPED} rd.live.check quiet
\t${initrd} /images/pxeboot/initrd.img
}
submenu 'Troubleshooting -->' {
\tmenuentry 'Install XS 7 in basic graphics mode' --class fedora --class gnu-linux --class gnu --class os {
\t\t${linux} /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=${ESCAPED} nomodeset quiet
\t\t${initrd} /images/pxeboot/initrd.img
\t}
\tmenuentry 'Rescue a XS system' --class fedora --class gnu-linux --class gnu --class os {
\t\t${linux} /images/pxeboot/vmlinuz inst.stage2=hd:LABEL=${ESCAPED} inst.rescue quiet
\t\t${initrd} /images/pxeboot/initrd.img
\t}
}
`;
}

export const TREEINFO = `[header]
type = productmd.treeinfo
version = 1.2

[release]
name = XS
short = XS
version = 7

[tree]
arch = x86_64
build_timestamp = 1700000000
platforms = x86_64,xen
variants = AppStream,BaseOS

[checksums]

[general]
; WARNING.0 = This section provides compatibility with pre-productmd treeinfos.
arch = x86_64
family = XS
name = XS 7
platforms = x86_64,xen
version = 7

[images-x86_64]
efiboot.img = images/efiboot.img
initrd = images/pxeboot/initrd.img
kernel = images/pxeboot/vmlinuz

[stage2]
mainimage = images/install.img

[variant-AppStream]
id = AppStream
name = AppStream
packages = AppStream/Packages
repository = AppStream
type = variant
uid = AppStream

[variant-BaseOS]
id = BaseOS
name = BaseOS
packages = BaseOS/Packages
repository = BaseOS
type = variant
uid = BaseOS
`;

export const COMPS = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">
<comps>
  <group>
    <id>core</id>
    <name>Core</name>
    <description>Smallest possible installation</description>
    <default>false</default>
    <uservisible>false</uservisible>
    <packagelist>
      <packagereq type="mandatory">xs-filesystem</packagereq>
    </packagelist>
  </group>
</comps>
`;
