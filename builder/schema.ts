// Site and layer models. TypeBox gives us both the TypeScript types and the JSON
// Schemas we publish under schemas/ for editors (see `xsbuild schema`).
import { Type, type Static } from '@sinclair/typebox';

const Name = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,38}$', description: 'lower-case letters, digits and dashes' });
const Mac = Type.String({
  pattern: '^[0-9a-f]{2}(:[0-9a-f]{2}){5}$',
  description: 'MAC address, lower-case, colon-separated: 52:54:00:aa:bb:01',
});
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256, 64 lower-case hex digits' });
/** Relative path inside the project (or layer) that must not climb out of it. */
const RelPath = Type.String({ minLength: 1, pattern: '^(?!/)(?!.*(^|/)\\.\\.(/|$)).+$', description: 'relative path, no ".." segments' });
/** Absolute path on the target or media. */
const AbsPath = Type.String({ pattern: '^/(?!.*(^|/)\\.\\.(/|$))[A-Za-z0-9._/+-]*$', description: 'absolute path of [A-Za-z0-9._/+-], no ".." segments' });

export const BaseSchema = Type.Union(
  [
    Type.Literal('demo', { description: 'Built-in demo base: Debian kernel + busybox stand-in installer' }),
    Type.Object(
      { iso: Type.String({ minLength: 1, description: 'path to an Anaconda installer ISO' }), sha256: Sha256 },
      { additionalProperties: false },
    ),
    Type.Object({ tree: Type.String({ minLength: 1, description: 'path to an exploded install tree' }) }, { additionalProperties: false }),
  ],
  { description: 'What the image is built on' },
);

const RoleNic = Type.Union([Mac, Type.Literal('bootif'), Type.Literal('other')], {
  description: 'how to find this NIC: an explicit MAC, "bootif" (the NIC that netbooted) or "other" (the remaining wired NIC)',
});

export const MachineSchema = Type.Object(
  {
    mac: Mac,
    hostname: Type.String({ pattern: '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$', description: 'short host name (RFC 1123 label)' }),
    nics: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z]{2,8}$' }), RoleNic, { description: 'role name (wan, lan...) → NIC' })),
  },
  { additionalProperties: false },
);

export const LibrarySchema = Type.Object(
  {
    source: Type.String({ minLength: 1, description: 'directory with the content, relative to the project root (or absolute)' }),
    dest: AbsPath,
  },
  { additionalProperties: false },
);

export const SiteSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    site: Name,
    description: Type.Optional(Type.String()),
    release: Type.String({ pattern: '^[0-9A-Za-z][0-9A-Za-z._-]{0,19}$', description: 'release name, e.g. 2026.11' }),
    base: BaseSchema,
    domain: Type.String({ pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$', description: 'DNS domain of the school network' }),
    volumeId: Type.Optional(Type.String({ description: 'ISO9660 volume id: at most 32 of [A-Z0-9_-]; derived from site and release when absent' })),
    layers: Type.Array(Name, { minItems: 1, uniqueItems: true, description: 'layers to use; their `requires` are pulled in' }),
    kickstart: Type.Object(
      {
        timezone: Type.String({ pattern: '^[A-Za-z]+(/[A-Za-z0-9_+-]+)*$' }),
        lang: Type.String({ pattern: '^[a-z]{2,3}_[A-Z]{2}(\\.UTF-8)?$' }),
        keyboard: Type.String({ pattern: '^[a-z0-9_-]+$' }),
        rootPasswordHash: Type.String({
          pattern: '^\\$(6|5|y|2b)\\$[./A-Za-z0-9$=,]{8,}$',
          description: 'crypt(3) hash (openssl passwd -6); never a clear-text password',
          'x-secret': true,
        }),
        partitioning: Type.Union([Type.Literal('auto'), Type.Literal('xs-standard'), Type.Literal('xs-library-disk')]),
      },
      { additionalProperties: false },
    ),
    boot: Type.Optional(
      Type.Object(
        {
          timeout: Type.Optional(Type.Integer({ minimum: 0, maximum: 600, description: 'boot menu timeout in seconds' })),
          extraArgs: Type.Optional(Type.Array(Type.String({ pattern: '^[^\\s\'"`$]+$' }), { description: 'extra kernel arguments for every entry' })),
        },
        { additionalProperties: false },
      ),
    ),
    machines: Type.Optional(Type.Array(MachineSchema)),
    unknownMachines: Type.Optional(Type.Union([Type.Literal('default'), Type.Literal('refuse')])),
    library: Type.Optional(Type.Array(LibrarySchema)),
    rpmDirs: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'directories of RPM files for the site repository, relative to the project root (or absolute)',
      }),
    ),
    netboot: Type.Optional(
      Type.Object(
        {
          serverUrl: Type.String({
            pattern: '^http://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$',
            description: 'install server URL the etherboot medium chains to (where `xsbuild serve` or a web server serves out/<site>/netboot/), e.g. http://10.1.0.5:8080/',
          }),
        },
        { additionalProperties: false, description: 'netboot tree and etherboot medium' },
      ),
    ),
    updates: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^https?://[^\\s]+$' }),
          publicKey: Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$', description: 'Ed25519 public key, base64 (never the private key)' }),
        },
        { additionalProperties: false },
      ),
    ),
    fleet: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^https?://[^/\\s]+(/[^\\s]*)?/$', description: 'the central office\'s fleet service, ending in "/": servers POST enrolments to <url>v1/enrol and reports to <url>v1/report' }),
          publicKey: Type.String({ pattern: '^[A-Za-z0-9+/]{43}=$', description: 'the office key\'s Ed25519 public key, base64: it signs approvals (never the private key)' }),
        },
        { additionalProperties: false, description: 'central office: enrolment, reports, sealed per-host files' },
      ),
    ),
  },
  { additionalProperties: false, $id: 'https://xsbuild.dev/schemas/site.schema.json', title: 'xsbuild site' },
);

/** Programs xsbuild builds itself and a layer may ship. */
export const ARTIFACTS = ['xs-agent'] as const;

const FileEntry = Type.Object(
  {
    src: Type.Optional(RelPath),
    artifact: Type.Optional(
      Type.Union(ARTIFACTS.map((a) => Type.Literal(a)), { description: 'a program xsbuild builds (instead of src): xs-agent' }),
    ),
    dest: AbsPath,
    mode: Type.Optional(Type.String({ pattern: '^0[0-7]{3}$' })),
    override: Type.Optional(Type.Boolean({ description: 'replace the same path from an earlier layer' })),
  },
  { additionalProperties: false },
);

export const LayerSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    name: Name,
    version: Type.String({ pattern: '^[0-9]+(\\.[0-9]+){0,2}([-+][0-9A-Za-z.-]+)?$' }),
    description: Type.Optional(Type.String()),
    requires: Type.Optional(Type.Array(Name, { uniqueItems: true })),
    packages: Type.Optional(Type.Array(Type.String({ pattern: '^[@A-Za-z0-9][A-Za-z0-9._+-]*$' }))),
    excludePackages: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._+*-]*$' }))),
    rpms: Type.Optional(
      Type.Array(RelPath, { description: 'RPM files, or directories of them, relative to the layer directory: shipped in the site repository' }),
    ),
    kickstart: Type.Optional(
      Type.Object(
        {
          commands: Type.Optional(RelPath),
          pre: Type.Optional(RelPath),
          post: Type.Optional(RelPath),
          postNochroot: Type.Optional(RelPath),
        },
        { additionalProperties: false, description: 'Handlebars templates, relative to the layer directory' },
      ),
    ),
    files: Type.Optional(Type.Array(FileEntry, { description: 'files for the installed system' })),
    media: Type.Optional(Type.Array(FileEntry, { description: 'files for the install media root' })),
  },
  { additionalProperties: false, $id: 'https://xsbuild.dev/schemas/layer.schema.json', title: 'xsbuild layer' },
);

export type Site = Static<typeof SiteSchema>;
export type Layer = Static<typeof LayerSchema>;
export type Machine = Static<typeof MachineSchema>;
export type Base = Static<typeof BaseSchema>;
export type FileEntry = Static<typeof FileEntry>;
export type Artifact = (typeof ARTIFACTS)[number];
