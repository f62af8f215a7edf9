// dnsmasq configuration for proxy-DHCP + TFTP: it answers PXE clients only, beside the
// school's existing DHCP server (which keeps handing out addresses), and serves the
// netboot tree's small files over TFTP. PXE ROMs get iPXE (undionly.kpxe for BIOS,
// snponly.efi for UEFI); iPXE then gets bootstrap.ipxe, which chains to HTTP.

export interface DnsmasqInput {
  /** Directory served over TFTP (the netboot tree). */
  tftpRoot: string;
  /** Interface to answer on; undefined leaves a placeholder line for the site to fill in. */
  iface?: string;
  /** An address in the served subnet (dnsmasq takes the netmask from the interface). */
  subnet?: string;
  /**
   * This server's address on that network, sent as next-server with every boot file.
   * dnsmasq leaves next-server empty in proxy replies, and iPXE ignores a ProxyDHCP
   * answer that has a boot file but no next-server: it then boots nothing.
   */
  server?: string;
  /** Where dnsmasq writes its pid (supervised runs). */
  pidFile?: string;
}

export function dnsmasqConf(i: DnsmasqInput): string {
  const q = (s: string) => (/[\s#"]/.test(s) ? `"${s.replace(/"/g, '')}"` : s);
  const next = i.server ? `,,${i.server}` : '';
  return [
    '# Proxy-DHCP + TFTP for netbooting with xsbuild. Generated; `xsbuild serve --dhcp-proxy IFACE`',
    '# runs dnsmasq with a copy of this that names the interface.',
    'port=0',
    'log-dhcp',
    'bind-dynamic',
    i.iface ? `interface=${i.iface}` : '# interface=<the install network interface>',
    i.subnet ? `dhcp-range=${i.subnet},proxy` : '# dhcp-range=<an address of the install network>,proxy',
    'enable-tftp',
    `tftp-root=${q(i.tftpRoot)}`,
    // Not tftp-secure: it serves only files owned by the user dnsmasq drops to (nobody),
    // which a built tree never is. dnsmasq refuses paths that climb out of tftp-root.
    '# The tree must be readable by others: dnsmasq reads it as an unprivileged user.',
    ...(i.pidFile ? [`pid-file=${q(i.pidFile)}`] : []),
    '# iPXE announces itself in option 175; PXE ROMs get iPXE first.',
    'dhcp-match=set:ipxe,175',
    'dhcp-vendorclass=set:bios,PXEClient:Arch:00000',
    'dhcp-vendorclass=set:efi64,PXEClient:Arch:00007',
    'dhcp-vendorclass=set:efi64,PXEClient:Arch:00009',
    ...(i.server ? [] : ['# Append ",,<this server\'s address>" to each dhcp-boot line: iPXE needs a next-server in proxy replies.']),
    `dhcp-boot=tag:ipxe,bootstrap.ipxe${next}`,
    `dhcp-boot=tag:!ipxe,tag:bios,undionly.kpxe${next}`,
    `dhcp-boot=tag:!ipxe,tag:efi64,snponly.efi${next}`,
    '# In proxy mode PXE ROMs read the boot file from the PXE menu: one silent entry each.',
    'pxe-prompt="xsbuild",0',
    'pxe-service=tag:!ipxe,x86PC,"xsbuild netboot",undionly.kpxe',
    'pxe-service=tag:!ipxe,X86-64_EFI,"xsbuild netboot",snponly.efi',
    '',
  ].join('\n');
}
