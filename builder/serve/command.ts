// `xsbuild serve out/<site> [--listen ADDR:PORT] [--prefix /path/] [--dhcp-proxy IFACE] [--json]`
// Exit status: 0 stopped by Ctrl-C/SIGTERM, 1 could not serve (busy port, dnsmasq
// failed), 2 bad input.
import path from 'node:path';
import { parseCli } from '../cliargs.js';
import { stat } from 'node:fs/promises';
import { InputError, errorReport, exitCodeFor } from '../errors.js';
import { startServer, type Serving } from './server.js';
import { startDhcpProxy, type DhcpProxy } from './dhcp.js';
import { eventLine, table } from './view.js';

export const SERVE_HELP = `xsbuild serve — install a room of machines over the network

Usage:
  xsbuild serve out/<site> [--listen ADDR:PORT] [--prefix /path/] [--dhcp-proxy IFACE] [--json]

Serves out/<site>/netboot/ over HTTP (boot.ipxe, kernels, kickstarts, repos, library),
shows each machine by MAC as it boots and installs, and takes the installers' reports.
  --listen ADDR:PORT   where to listen (default: 0.0.0.0 and the port of the site's netboot.serverUrl)
  --prefix /path/      URL path of the tree besides / (default: the path of netboot.serverUrl)
  --dhcp-proxy IFACE   also run dnsmasq as proxy-DHCP + TFTP on IFACE (beside the existing DHCP server)
  --json               one JSON event per line on stdout
Status: http://ADDR:PORT/status (HTML), /status.json. Ctrl-C stops (exit 0).
`;

export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(s) ?? /^()()(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new InputError({ file: '--listen' }, `"${s}" is not ADDR:PORT`, 'e.g. --listen 0.0.0.0:8080 or --listen 127.0.0.1:0 (any free port)');
  return { host: m[1] || m[2] || '0.0.0.0', port };
}

async function netbootDir(arg: string): Promise<string> {
  const abs = path.resolve(arg);
  for (const d of [path.join(abs, 'netboot'), abs]) {
    if (await stat(path.join(d, 'netboot.json')).then((s) => s.isFile(), () => false)) return d;
  }
  throw new InputError({ file: arg }, 'no netboot tree here (netboot/netboot.json)', 'give a build output directory, e.g. out/rioja, of a site with a netboot: section');
}

export async function runServe(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCli('serve', argv, { listen: { type: 'string' }, prefix: { type: 'string' }, 'dhcp-proxy': { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } });
  } catch (e) {
    process.stderr.write(errorReport(e));
    return exitCodeFor(e);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const json = values.json ?? false;
  const mode = json ? 'json' : process.env.CI === 'true' || !process.stdout.isTTY ? 'plain' : 'tty';
  const out = (obj: object) => process.stdout.write(JSON.stringify({ t: new Date().toISOString(), ...obj }) + '\n');
  const recent: string[] = [];
  const log = (line: string) => {
    if (mode === 'json') return out({ event: 'log', message: line });
    if (mode === 'plain') return void process.stderr.write(`${line}\n`);
    recent.push(line);
    if (recent.length > 8) recent.shift();
  };
  let serving: Serving | undefined;
  let dhcp: DhcpProxy | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    if (positionals.length !== 1) throw new InputError({ file: 'command line' }, 'serve takes one build output directory', 'xsbuild serve out/<site>');
    const dir = await netbootDir(positionals[0]);
    const { loadManifest } = await import('./server.js');
    const manifest = await loadManifest(dir);
    const configured = new URL(manifest.serverUrl);
    const listen = values.listen ? parseListen(values.listen) : { host: '0.0.0.0', port: Number(configured.port || 80) };
    serving = await startServer({ dir, ...listen, prefix: values.prefix, log });
    const s = serving;
    const banner = `serving ${path.relative(process.cwd(), dir) || dir} (${manifest.site} ${manifest.release}) at ${s.url} — status: ${s.url.replace(/\/[^/]*\/?$/, '')}/status`;
    if (mode === 'json') out({ event: 'listening', url: s.url, site: manifest.site, release: manifest.release });
    else process.stderr.write(`${banner}\n`);
    s.room.onChange((m, what) => {
      if (mode === 'json') out({ event: 'machine', what, machine: m });
      else if (mode === 'plain') process.stderr.write(`${eventLine(m, what)}\n`);
    });

    const stopped = new Promise<number>((resolve) => {
      const stop = (sig: string) => {
        log(`${sig}: stopping`);
        resolve(0);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
      if (values['dhcp-proxy']) {
        startDhcpProxy({ iface: values['dhcp-proxy'], tftpRoot: dir, log, onFatal: (e) => {
          log(errorReport(e).trimEnd());
          resolve(exitCodeFor(e));
        } }).then(
          (d) => {
            dhcp = d;
            log(`proxy-DHCP + TFTP on ${values['dhcp-proxy']} (dnsmasq, ${d.conf})`);
          },
          (e) => {
            process.stderr.write(errorReport(e));
            resolve(exitCodeFor(e));
          },
        );
      }
    });
    if (mode === 'tty') {
      const draw = () => process.stdout.write(`\x1b[H\x1b[2J${table(s.room, banner)}\n\n${recent.join('\n')}\n`);
      draw();
      timer = setInterval(draw, 1000);
    }
    return await stopped;
  } catch (e) {
    process.stderr.write(errorReport(e));
    return exitCodeFor(e);
  } finally {
    if (timer) clearInterval(timer);
    await dhcp?.stop();
    await serving?.close();
  }
}
