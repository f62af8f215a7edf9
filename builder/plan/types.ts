// The build plan: everything about a build that can be known without heavy work, as
// one JSON document. `xsbuild plan <site> --json` prints it, `validate` stops after
// making it, and realize (builder/plan/realize.ts) runs its stages in order.
import type { Artifact, Site } from '../schema.js';

export const PLAN_VERSION = 1;

/** A file placed on the media: from the project, or a program xsbuild builds. */
export interface PlannedFile {
  isoPath: string;
  from: { file: string } | { artifact: Artifact };
  mode?: string;
  /** Who asked for it ("layer web-filter"), for messages. */
  origin: string;
}

export interface PlannedKickstart {
  /** Where it is served or mastered: "/ks.cfg" on the ISO, "kickstart/<id>.ks" in netboot/. */
  path: string;
  /** The machine record it is for (hostname), or null for the site default. */
  machine: string | null;
  sha256: string;
  bytes: number;
  /** Carries a machine's enrolment token: the text is never printed. */
  secret: boolean;
}

export interface PlannedStage {
  name: string;
  /** The module that does the work, for a reader looking for the code. */
  module: string;
  /** What it reads and what it makes, in words a reader can match to the plan. */
  inputs: string[];
  outputs: string[];
  /** The cache it is kept in when its inputs hash the same ("stage cache", "file identity"), or null. */
  cache: string | null;
}

export interface BuildPlan {
  planVersion: number;
  site: { name: string; file: string; release: string; volumeId: string; base: Site['base']; domain: string };
  /** Seconds since 1970 every timestamp in the image is set to. */
  epoch: number;
  layers: { name: string; version: string; contentSha256: string; file: string }[];
  packages: string[];
  excludePackages: string[];
  kickstarts: PlannedKickstart[];
  /** Kickstart repo lines (the site repository), for the media and for netboot. */
  repoLines: { media: { name: string; baseurl: string }[]; netboot: { name: string; baseurl: string }[] };
  files: PlannedFile[];
  library: { isoPath: string; source: string; origin: string }[];
  artifacts: Artifact[];
  netboot: { serverUrl: string; machines: string[]; unknownMachines: string; enrolTokens: number } | null;
  output: { dir: string; iso: string };
  stages: PlannedStage[];
}
