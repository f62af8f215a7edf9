// The validation step after the schema: checks across fields, files and layers that one
// field cannot see alone. Findings are collected and reported together (exit 2).
import { InputErrors } from '../errors.js';
import type { LoadedSite } from '../site.js';
import type { ResolvedLayers } from '../layers.js';
import { checkSiteRules, type SiteCheckOptions } from './site-rules.js';
import { checkLayerRules } from './layer-rules.js';
import { checkBaseOnDisk, checkRpmsOnDisk } from './inputs.js';

export type { SiteCheckOptions };

/** Throws InputErrors for everything wrong across the site file's fields, and a missing base. */
export async function checkSite(site: LoadedSite, opts: SiteCheckOptions = {}): Promise<void> {
  const errors = [...checkSiteRules(site, opts), ...(await checkBaseOnDisk(site))];
  if (errors.length) throw new InputErrors(errors);
}

/** Throws InputErrors for layer files that land where they must not, and RPMs that are not there. */
export async function checkLayers(site: LoadedSite, layers: ResolvedLayers): Promise<void> {
  const errors = await checkLayerRules(site, layers);
  if (errors.length) throw new InputErrors(errors);
  await checkRpmsOnDisk(site, layers);
}
