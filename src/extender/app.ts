// The extender's HTTP side, built apart from `listen` so tests drive it in-process and over loopback.
// The scheduler verbs (POST <prefix>/filter and <prefix>/prioritize) are plain node:http handlers
// (scheduler-verbs.ts) that the request listener calls directly; everything else (explain, health,
// metrics) is the Koa app, which routes the verbs to the same handlers.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import Koa from 'koa';
import { Router } from '@koa/router';
import type { Logger } from 'pino';
import type { PodLike } from '../core/index.js';
import type { ExtenderMetrics } from '../metrics/extender.js';
import { HttpError, readJson } from '../runtime/body.js';
import { errorMiddleware, opsRoutes } from '../runtime/ops.js';
import type { Decisions } from '../core/decisions.js';
import { readPod, field } from '../api/scheduler-extender.js';
import { extenderFailures, FILTER_VERB, PRIORITIZE_VERB, schedulerVerbs, type VerbHandler } from './scheduler-verbs.js';

export { FILTER_VERB, PRIORITIZE_VERB };
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

export interface App {
  /** Every route, the verbs included (through the same handlers as `listener`). */
  app: Koa;
  router: Router;
  /** The server's request listener: the verbs straight to their handlers, the rest to the Koa app. */
  listener: RequestListener;
}

export function buildApp(opts: AppOptions): App {
  const { decisions, metrics, logger } = opts;
  const app = new Koa();
  const router = new Router();
  const prefix = normalisePrefix(opts.prefix);
  const failures = extenderFailures(metrics, logger);
  const verbs = schedulerVerbs({ decisions, metrics, logger, failures, bodyLimit: opts.bodyLimit, seenPod: opts.seenPod });

  // Bodies keep the wire's `Error` key; every refusal is counted by verb and outcome.
  app.use(
    errorMiddleware({
      classify: failures.classify,
      body: failures.body,
      observe: (ctx, failure, err) => failures.observe((ctx.state.verb as string | undefined) ?? 'other', failure, err),
    }),
  );

  // Paths the scheduler does not send (another casing, a trailing slash) reach the verbs through
  // the router, which the handlers answer themselves.
  const viaKoa = (handle: VerbHandler) => (ctx: Koa.Context) => {
    ctx.respond = false;
    return handle(ctx.req, ctx.res);
  };
  const paths = new Map<string, VerbHandler>();
  for (const verb of [FILTER_VERB, PRIORITIZE_VERB] as const) {
    router.post(`${prefix}/${verb}`, viaKoa(verbs[verb]));
    paths.set(`${prefix}/${verb}`, verbs[verb]);
  }

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

  const koa = app.callback();
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const verb = req.method === 'POST' ? paths.get(req.url ?? '') : undefined;
    void (verb ?? koa)(req, res);
  };
  return { app, router, listener };
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
