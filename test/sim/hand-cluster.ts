// The one-node cluster the hand-computed simulator tests share: one slot, 64 MiB blocks, a one-block
// read-ahead; a remote block takes 2 s on its one stream and a cached one 0.5 s, before request latency.
export const B = 64 * 2 ** 20;

export const handSpec = (extra: Record<string, number> = {}) => ({
  name: 'hand',
  nodes: 1,
  slotsPerNode: 1,
  cacheGiBPerNode: 1,
  blockMiB: 64,
  localReadGBps: (2 * B) / 1e9,
  objectStoreStreamGbps: ((B / 2) * 8) / 1e9,
  nicGbps: 100,
  objectStoreGbps: 100,
  prefetchMiB: 64,
  ...extra,
});
