// `locality` (default): the share of the pod's dataset bytes cached on the node, with partial credit
// for bytes elsewhere in its zone and region.
import type { Policy } from './config.js';

export const locality: Policy = {
  name: 'locality',
  summary: "share of the pod's dataset bytes cached on the node; bytes elsewhere in its zone/region count at zoneCredit/regionCredit",
  credit: (loc, _total, cfg) => loc.onNode + cfg.zoneCredit * (loc.inZone - loc.onNode) + cfg.regionCredit * (loc.inRegion - loc.inZone),
};
