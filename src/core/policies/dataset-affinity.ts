// `dataset-affinity`: any cached part of a Dataset on the node counts as all of it (cache affinity in
// the manner of Fluid); a part in the zone or region counts at zoneCredit / regionCredit.
import type { Policy } from './config.js';

export const datasetAffinity: Policy = {
  name: 'dataset-affinity',
  summary: 'a node caching any part of a dataset gets its full weight; zone/region tiers at zoneCredit/regionCredit',
  credit: (loc, total, cfg) => {
    if (loc.onNode > 0) return total;
    if (loc.inZone > 0) return total * cfg.zoneCredit;
    if (loc.inRegion > 0) return total * cfg.regionCredit;
    return 0;
  },
};
