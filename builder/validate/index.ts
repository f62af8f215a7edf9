// The validation step after the schema: checks across fields, files and layers that one
// field cannot see alone. Findings are collected and reported together (exit 2).
import { InputErrors } from '../errors.js';
import type { LoadedSite } from '../site.js';
import type { ResolvedLayers } from '../layers.js';
import { checkSiteRules, type SiteCheckOptions } from './site-rules.js';
import { checkLayerRules } from './layer-rules.js';

export type { SiteCheckOptions };

/** Throws InputErrors for everything wrong across the site file's fields. */
export function checkSite(site: LoadedSite, opts: SiteCheckOptions = {}): void {
  const errors = checkSiteRules(site, opts);
  if (errors.length) throw new InputErrors(errors);
}

/** Throws InputErrors for layer files that land where they must not. */
export async function checkLayers(site: LoadedSite, layers: ResolvedLayers): Promise<void> {
  const errors = await checkLayerRules(site, layers);
  if (errors.length) throw new InputErrors(errors);
}
