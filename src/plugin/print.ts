// The plugin's tables and objects: `kubectl locus datasets` and `kubectl locus nodes`.
import type { DatasetRow, NodeRow } from './cache-view.js';
import { age, bytes, type Column, type Output, render } from './output.js';

const zoneName = (z: string) => z || '<none>';
const zonesCell = (zones: Record<string, number>) =>
  Object.entries(zones)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([z, b]) => `${zoneName(z)}=${bytes(b)}`)
    .join(',') || '<none>';

export function printDatasets(rows: DatasetRow[], opts: { output: Output; allNamespaces: boolean; namespace: string }): string {
  const columns: Column<DatasetRow>[] = [
    ...(opts.allNamespaces ? [{ header: 'NAMESPACE', value: (r: DatasetRow) => r.namespace }] : []),
    { header: 'NAME', value: (r) => r.name },
    { header: 'TYPE', value: (r) => r.type ?? '<unknown>', wide: true },
    { header: 'PHASE', value: (r) => r.phase ?? '<unknown>', wide: true },
    { header: 'SIZE', value: (r) => bytes(r.sizeBytes) },
    { header: 'CACHED', value: (r) => bytes(r.cachedBytes) },
    { header: 'BY ZONE', value: (r) => zonesCell(r.zones) },
    { header: 'NODES', value: (r) => String(r.nodes), wide: true },
    { header: 'READERS', value: (r) => String(r.readers) },
    { header: 'READER PODS', value: (r) => r.readerPods.join(',') || '<none>', wide: true },
  ];
  const objects = () =>
    rows.map((r) => ({
      namespace: r.namespace,
      name: r.name,
      type: r.type,
      phase: r.phase,
      sizeBytes: r.sizeBytes,
      cachedBytes: r.cachedBytes,
      cachedBytesByZone: r.zones,
      nodes: r.nodes,
      readers: r.readers,
      readerPods: r.readerPods,
    }));
  const empty = opts.allNamespaces ? 'No resources found' : `No resources found in ${opts.namespace} namespace.`;
  return render(rows, columns, opts.output, objects, empty);
}

export function printNodes(rows: NodeRow[], opts: { output: Output; now: number }): string {
  const pct = (r: NodeRow) => (r.usedBytes !== undefined && r.capacityBytes ? `${Math.round((100 * r.usedBytes) / r.capacityBytes)}%` : '<unknown>');
  const state = (r: NodeRow) => (!r.hasCache ? 'NoAgent' : r.live ? 'Live' : 'Stale');
  const columns: Column<NodeRow>[] = [
    { header: 'NAME', value: (r) => r.name },
    { header: 'ZONE', value: (r) => r.zone ?? '<none>' },
    { header: 'CACHE', value: state },
    { header: 'USED', value: (r) => (r.hasCache ? bytes(r.usedBytes) : '<none>') },
    { header: 'CAPACITY', value: (r) => (r.hasCache ? bytes(r.capacityBytes) : '<none>') },
    { header: 'USE%', value: (r) => (r.hasCache ? pct(r) : '<none>') },
    { header: 'DATASETS', value: (r) => String(r.datasets.length) },
    { header: 'UPDATED', value: (r) => (r.hasCache ? age(r.updatedAt, opts.now) : '<none>') },
    { header: 'EPOCH', value: (r) => r.epoch ?? '<none>', wide: true },
    { header: 'SEQ', value: (r) => (r.seq === undefined ? '<none>' : String(r.seq)), wide: true },
    {
      header: 'LARGEST',
      value: (r) =>
        r.datasets
          .slice(0, 3)
          .map((d) => `${d.namespace}/${d.name}=${bytes(d.bytes)}`)
          .join(',') || '<none>',
      wide: true,
    },
  ];
  const objects = () =>
    rows.map((r) => ({
      name: r.name,
      zone: r.zone,
      cache: state(r),
      usedBytes: r.usedBytes,
      capacityBytes: r.capacityBytes,
      updatedAt: r.updatedAt,
      epoch: r.epoch,
      seq: r.seq,
      datasets: r.datasets,
    }));
  return render(rows, columns, opts.output, objects, 'No resources found');
}
