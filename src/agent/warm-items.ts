// Warm-ahead on the agent's side: the queued work the leading extender planned for this node, as the
// items of its own NodeCache's spec.warm, watched with the field selector metadata.name=<node> (one
// object, not the cluster's). Each item becomes prefetch demand after the bound pods'.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { nodeCacheWarmItemSchema } from '../api/nodecache.js';
import { warmTargetKey } from '../core/warm-plan.js';
import type { KubeClient } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import type { KubeObject } from '../kube/object.js';
import { NODE_CACHES } from '../kube/resources.js';
import type { WarmWork } from './prefetcher.js';

type NodeCacheObject = KubeObject & { spec?: { warm?: unknown } };

/** Watches the node's own NodeCache and hands `onItems` its valid spec.warm items after every change (the caller starts it). */
export function watchWarmItems(kc: KubeConfig, client: KubeClient, node: string, onItems: (items: WarmWork[]) => void, log: Logger): Informer<NodeCacheObject> {
  const informer = new Informer<NodeCacheObject>(kc, client, {
    resource: NODE_CACHES,
    fieldSelector: `metadata.name=${node}`,
    onRestart: (err) => log.warn({ err }, 'NodeCache watch (warm-ahead) failed; restarting'),
    onHandlerError: (err) => log.error({ err }, 'warm items not handled'),
  });
  /** Problems already logged, so an unchanged bad item is reported once. */
  let reported = '';
  const seen = (nc: NodeCacheObject) => {
    const { items, problems } = warmWork(nc.spec?.warm);
    const text = problems.join('; ');
    if (text !== '' && text !== reported) log.warn({ node, problems }, 'NodeCache spec.warm items ignored');
    reported = text;
    onItems(items);
  };
  return informer
    .on('add', seen)
    .on('update', seen)
    .on('delete', () => onItems([]));
}

/** The valid items of a spec.warm, in order, and what is wrong with the others. */
export function warmWork(warm: unknown): { items: WarmWork[]; problems: string[] } {
  const items: WarmWork[] = [];
  const problems: string[] = [];
  if (warm === undefined || warm === null) return { items, problems };
  if (!Array.isArray(warm)) return { items, problems: ['spec.warm is not a list'] };
  warm.forEach((raw: unknown, i) => {
    const parsed = nodeCacheWarmItemSchema.safeParse(raw);
    if (!parsed.success) return problems.push(`spec.warm[${i}]: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join(', ')}`);
    const { pod, job, datasets } = parsed.data;
    if (pod) items.push({ key: warmTargetKey({ kind: 'Pod', ...pod }), pod: `${pod.namespace}/${pod.name}`, datasets });
    else if (job) items.push({ key: warmTargetKey({ kind: 'Job', ...job }), datasets });
    else problems.push(`spec.warm[${i}]: names neither a pod nor a job`);
  });
  return { items, problems };
}
