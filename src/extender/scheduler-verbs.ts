// POST <prefix>/filter and <prefix>/prioritize as plain node:http handlers. kube-scheduler calls them
// for every pod with every feasible node's name, so a request does only what its answer needs: read
// the body into one string (bounded), JSON.parse, check the fields the extender reads, call the core,
// write a Buffer of known length. No Koa context, no per-request logger, label objects or closures.
// Failures go through the runtime's one error mapping (httpFailure), as the Koa app's do.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Decision, Decisions, Outcome } from '../core/decisions.js';
import type { PodLike } from '../core/index.js';
import type { ExtenderMetrics } from '../metrics/extender.js';
import { readJson } from '../runtime/body.js';
import { closesConnection, httpFailure, type HttpFailure } from '../runtime/ops.js';
import { readExtenderArgs, WireError, type ExtenderArgs } from '../api/scheduler-extender.js';
import { filterResultBuffer, prioritiesBuffer } from './answer-buffer.js';

/** The verbs the scheduler config names (`filterVerb`, `prioritizeVerb`). */
export const FILTER_VERB = 'filter';
export const PRIORITIZE_VERB = 'prioritize';

/** How the extender's failures become answers, shared by these handlers and the Koa app. */
export interface Failures {
  /** WireError (a field of the wrong type) is the caller's mistake: 400. */
  classify(err: unknown): HttpFailure | undefined;
  /** The wire's `Error` key. */
  body(message: string): { Error: string };
  /** Counts and logs a refused or failed request. */
  observe(verb: string, failure: HttpFailure, err: unknown): void;
}

export function extenderFailures(metrics: ExtenderMetrics, logger: Logger): Failures {
  return {
    classify: (err) => (err instanceof WireError ? { status: 400, message: err.message } : undefined),
    body: (message) => ({ Error: message }),
    observe(verb, { status, message }, err) {
      const outcome = status === 413 ? 'too-large' : status === 404 ? 'not-found' : status === 500 ? 'error' : 'bad-request';
      metrics.requests.inc({ verb, outcome });
      if (status === 500) logger.warn({ verb, err }, 'request failed');
      else logger.warn({ verb, status, err: message }, 'request refused');
    },
  };
}

export interface VerbOptions {
  decisions: Decisions;
  metrics: ExtenderMetrics;
  logger: Logger;
  failures: Failures;
  /** Largest request body accepted, bytes. */
  bodyLimit: number;
  /** Called with each pod the scheduler asks about, so explain can find it later. */
  seenPod?: (pod: PodLike) => void;
}

/** Answers one request; never rejects (every failure is answered). */
export type VerbHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function schedulerVerbs(opts: VerbOptions): Record<typeof FILTER_VERB | typeof PRIORITIZE_VERB, VerbHandler> {
  const { decisions, metrics, logger, failures } = opts;

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

  const verb = <T>(name: string, decide: (args: ExtenderArgs) => Decision<T>, encode: (answer: T) => Buffer): VerbHandler => {
    // Metric children resolved once: no label objects hashed per request.
    const duration = metrics.requestDuration.labels({ verb: name });
    const counted: Record<Outcome, { inc(): void }> = {
      ok: metrics.requests.labels({ verb: name, outcome: 'ok' }),
      neutral: metrics.requests.labels({ verb: name, outcome: 'neutral' }),
      'failed-open': metrics.requests.labels({ verb: name, outcome: 'failed-open' }),
    };
    return async (req, res) => {
      let answer: Buffer;
      try {
        const body = await readJson(req, opts.bodyLimit);
        const start = performance.now();
        const args = readExtenderArgs(body);
        opts.seenPod?.(args.pod);
        const decision = decide(args);
        warnProblems(args, decision);
        answer = encode(decision.answer);
        duration.observe((performance.now() - start) / 1000);
        counted[decision.outcome].inc();
        if (decision.outcome === 'failed-open') logger.warn({ verb: name, ...decision.detail() }, 'core failed; answered neutral');
        else if (logger.isLevelEnabled('debug')) logger.debug({ verb: name, outcome: decision.outcome, ...decision.detail() }, 'decision');
      } catch (err) {
        const failure = httpFailure(err, failures.classify);
        failures.observe(name, failure, err);
        send(res, failure.status, Buffer.from(JSON.stringify(failures.body(failure.message))), closesConnection(failure));
        return;
      }
      send(res, 200, answer, false);
    };
  };

  return {
    [FILTER_VERB]: verb(FILTER_VERB, (a) => decisions.filter(a), filterResultBuffer),
    [PRIORITIZE_VERB]: verb(PRIORITIZE_VERB, (a) => decisions.prioritize(a), prioritiesBuffer),
  };
}

/** The answer with its length, in one write: headers as a flat list, which node:http takes as they are. */
function send(res: ServerResponse, status: number, body: Buffer, close: boolean): void {
  if (res.destroyed) return;
  const headers = ['Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(body.length)];
  if (close) headers.push('Connection', 'close');
  res.writeHead(status, headers);
  res.end(body);
}
