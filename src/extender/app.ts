// The extender's Koa app, built apart from `listen` so tests drive it in-process and over loopback.
// Routes: POST <prefix>/filter and <prefix>/prioritize (kube-scheduler), explain, health, metrics.
import { createHash } from 'node:crypto';
import Koa from 'koa';
import { Router } from '@koa/router';
import type { Logger } from 'pino';
import type { PodLike } from '../core/index.js';
import type { ExtenderMetrics } from '../metrics/extender.js';
import { HttpError, readJson } from '../runtime/body.js';
import { errorMiddleware, opsRoutes } from '../runtime/ops.js';
import type { Decision, Decisions } from '../core/decisions.js';
import { LRUCache } from 'lru-cache';
import { readExtenderArgs, readPod, WireError, field, type ExtenderArgs } from '../api/scheduler-extender.js';
import { filterResultBuffer, prioritiesBuffer } from './answer-buffer.js';

/** The verbs the scheduler config names (`filterVerb`, `prioritizeVerb`). */
export const FILTER_VERB = 'filter';
export const PRIORITIZE_VERB = 'prioritize';
export const EXPLAIN_PATH = '/v1/explain';

export interface AppOptions {
  decisions: Decisions;
  metrics: ExtenderMetrics;
  logger: Logger;
  /** URL prefix of the scheduler verbs, e.g. `/scheduler` (the scheduler's `urlPrefix` path). */
  prefix: string;
  /** Largest request body accepted, bytes. */
  bodyLimit: number;
  ready: () => boolean;
  /** Node names known to the index, for explain without `node`. */
  nodeNames: () => string[];
  /** Finds a pod by namespace and name for `GET /v1/explain` (recently scheduled pods, then the API). */
  findPod: (namespace: string, name: string) => Promise<PodLike | undefined>;
  /** Called with each pod the scheduler asks about, so explain can find it later. */
  seenPod?: (pod: PodLike) => void;
}

export function buildApp(opts: AppOptions): { app: Koa; router: Router } {
  const { decisions, metrics, logger } = opts;
  const app = new Koa();
  const router = new Router();
  const prefix = normalisePrefix(opts.prefix);

  // Bodies keep the wire's `Error` key; every refusal is counted by verb and outcome.
  app.use(
    errorMiddleware({
      classify: (err) => (err instanceof WireError ? { status: 400, message: err.message } : undefined),
      body: (message) => ({ Error: message }),
      observe(ctx, { status, message }, err) {
        const verb = (ctx.state.verb as string | undefined) ?? 'other';
        const outcome = status === 413 ? 'too-large' : status === 404 ? 'not-found' : status === 500 ? 'error' : 'bad-request';
        metrics.requests.inc({ verb, outcome });
        if (status === 500) logger.warn({ verb, err }, 'request failed');
        else logger.warn({ verb, status, err: message }, 'request refused');
      },
    }),
  );

  // What is wrong in a pod's annotations (a malformed slice, say) is logged once per pod, not on
  // every filter and prioritize call the scheduler makes for it.
  const warned = new LRUCache<string, true>({ max: 10_000 });
  const warnProblems = (args: ExtenderArgs, decision: Decision<unknown>) => {
    if (decision.problems.length === 0) return;
    const pod = `${args.pod.metadata.namespace || 'default'}/${args.pod.metadata.name ?? ''}`;
    // Hashed: messages quote annotation values, which may be megabytes.
    const key = `${pod} ${createHash('sha256')
      .update(decision.problems.map((p) => p.message).join('\n'))
      .digest('base64')}`;
    if (warned.has(key)) return;
    warned.set(key, true);
    logger.warn({ pod, problems: decision.problems }, 'pod annotations or labels have problems; scoring carries on without them');
  };

  // The answer goes out as a Buffer of known length: Koa sets Content-Length and writes it as it is.
  const schedulerVerb =
    <T>(verb: string, decide: (args: ExtenderArgs) => Decision<T>, encode: (answer: T) => Buffer) =>
    async (ctx: Koa.Context) => {
      ctx.state.verb = verb;
      const body = await readJson(ctx.req, opts.bodyLimit);
      const end = metrics.requestDuration.startTimer({ verb });
      const args = readExtenderArgs(body);
      opts.seenPod?.(args.pod);
      const decision = decide(args);
      warnProblems(args, decision);
      ctx.type = 'application/json';
      ctx.body = encode(decision.answer);
      end();
      metrics.requests.inc({ verb, outcome: decision.outcome });
      if (decision.outcome === 'failed-open') logger.warn({ verb, ...decision.detail() }, 'core failed; answered neutral');
      else if (logger.isLevelEnabled('debug')) logger.debug({ verb, outcome: decision.outcome, ...decision.detail() }, 'decision');
    };

  router.post(
    `${prefix}/${FILTER_VERB}`,
    schedulerVerb(FILTER_VERB, (a) => decisions.filter(a), filterResultBuffer),
  );
  router.post(
    `${prefix}/${PRIORITIZE_VERB}`,
    schedulerVerb(PRIORITIZE_VERB, (a) => decisions.prioritize(a), prioritiesBuffer),
  );

  router.get(EXPLAIN_PATH, async (ctx) => {
    ctx.state.verb = 'explain';
    const ref = ctx.query.pod;
    if (typeof ref !== 'string' || !/^[^/]+\/[^/]+$/.test(ref)) {
      throw new HttpError(400, 'query parameter "pod" must be <namespace>/<name>, e.g. ?pod=default/trainer-0');
    }
    // It reads any pod with the extender's cluster-wide permission: only for whoever can reach the
    // pod's own loopback (kubectl port-forward / exec in locus-system). `kubectl locus explain` reads
    // the pod with the user's own credentials and POSTs it instead.
    if (!isLoopback(ctx.req.socket.remoteAddress)) {
      throw new HttpError(
        403,
        `GET ${EXPLAIN_PATH}?pod= answers only on loopback (kubectl -n locus-system port-forward deploy/locus-extender 8888): it reads pods with the extender's permissions; use "kubectl locus explain <pod> -n <namespace>", which reads the pod with your credentials and POSTs it`,
      );
    }
    const [namespace, name] = ref.split('/');
    const pod = await opts.findPod(namespace, name);
    if (!pod) {
      throw new HttpError(
        404,
        `pod ${ref} is unknown: it was not scheduled through this extender recently and cannot be read from the API; POST ${EXPLAIN_PATH} with {"pod": <the pod object>} instead`,
      );
    }
    explainInto(ctx, pod, nodesParam(ctx.query.node));
  });
  router.post(EXPLAIN_PATH, async (ctx) => {
    ctx.state.verb = 'explain';
    const body = await readJson(ctx.req, opts.bodyLimit);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpError(400, 'the body must be a JSON object {"pod": <Pod>, "nodes": ["node-a", …]} (nodes optional)');
    }
    const b = body as Record<string, unknown>;
    const pod = readPod(field(b, 'pod'), 'pod');
    const nodes = field(b, 'nodes') ?? field(b, 'node');
    if (nodes !== undefined && !(typeof nodes === 'string' || (Array.isArray(nodes) && nodes.every((n) => typeof n === 'string')))) {
      throw new HttpError(400, 'field "nodes" must be a node name or an array of node names');
    }
    explainInto(ctx, pod, nodes === undefined ? [] : ([] as string[]).concat(nodes as string | string[]));
  });

  const explainInto = (ctx: Koa.Context, pod: PodLike, nodes: string[]) => {
    const end = metrics.requestDuration.startTimer({ verb: 'explain' });
    const answer = decisions.explain(pod, nodes.length > 0 ? nodes : opts.nodeNames());
    answer.nodes.sort((a, b) => b.score - a.score || a.node.localeCompare(b.node));
    ctx.body = answer;
    end();
    metrics.requests.inc({ verb: 'explain', outcome: 'ok' });
  };

  opsRoutes(router, { registry: metrics.registry, ready: opts.ready, notReady: 'the Node, Dataset and NodeCache sources have not synced yet' });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return { app, router };
}

const isLoopback = (address: string | undefined): boolean => address !== undefined && (address === '::1' || /^(::ffff:)?127\./.test(address));

function nodesParam(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return ([] as string[])
    .concat(value)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** `/scheduler`, `scheduler/` and `/scheduler/` all mean `/scheduler`; `/` means no prefix. */
export function normalisePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `/${trimmed}`;
}
