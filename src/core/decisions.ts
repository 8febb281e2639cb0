// The extender's answers: ExtenderArgs in, the core's filter / scores / explanation out, serialised
// on the scheduler's wire. No policy here: the core decides; this adapts and fails open.
import {
  explain,
  filterNodes,
  localityRequirement,
  requestForPod,
  scoreNodes,
  type Explanation,
  type FilterRequest,
  type LocalityIndex,
  type PodLike,
  type PolicyName,
  type Problem,
  type ScoringConfig,
  type SliceOptions,
} from './index.js';
import type { ExtenderArgs, ExtenderFilterResult, HostPriority } from '../api/scheduler-extender.js';

export interface DecisionOptions {
  index: LocalityIndex;
  policy: PolicyName;
  scoring?: Partial<ScoringConfig>;
  now: () => number;
  /** False until the inventory sources have synced: answers are then neutral. */
  ready: () => boolean;
  /** `spec.completions` of a Job, for the shards of an Indexed Job's pods. */
  jobCompletions?: SliceOptions['jobCompletions'];
}

/** `ok`: the core decided; `neutral`: nothing to decide on (no known Dataset, not synced); `failed-open`: the core threw. */
export type Outcome = 'ok' | 'neutral' | 'failed-open';

export interface Decision<T> {
  answer: T;
  outcome: Outcome;
  /** What was decided and why, for the debug log line (built only when it is logged). */
  detail: () => Record<string, unknown>;
  /** What is wrong in what the pod's author wrote (e.g. a malformed slice), for a warning. */
  problems: Problem[];
}

export class Decisions {
  constructor(private readonly opts: DecisionOptions) {}

  get policy(): PolicyName {
    return this.opts.policy;
  }

  /** The core's request for a pod, or undefined when the index has nothing to say about it. */
  private request(pod: PodLike, nodes: readonly string[]): (FilterRequest & { problems: Problem[] }) | undefined {
    if (!this.opts.ready()) return undefined;
    const req = this.requestFor(pod, nodes);
    // Datasets the index does not know cannot be located: they neither filter nor score.
    req.datasets = req.datasets.filter((ref) => this.opts.index.dataset(`${ref.namespace}/${ref.name}`) !== undefined);
    return req.datasets.length > 0 ? req : undefined;
  }

  private requestFor(pod: PodLike, nodes: readonly string[]): FilterRequest & { problems: Problem[] } {
    return requestForPod(pod, nodes, this.opts.index, this.opts.now(), this.opts.scoring, { jobCompletions: this.opts.jobCompletions });
  }

  /**
   * Runs `decide` on the core's request for the pod: `neutral` (no value) when there is nothing to
   * decide on, `failed-open` (no value, the error kept for the log) when the core throws.
   */
  private attempt<T>(args: ExtenderArgs, decide: (req: FilterRequest) => { value: T; problems: Problem[] }): Attempt<T> {
    try {
      const req = this.request(args.pod, args.nodeNames);
      if (!req) return { outcome: 'neutral', problems: [] };
      const { value, problems } = decide(req);
      return { value, outcome: 'ok', problems: [...req.problems, ...problems] };
    } catch (err) {
      return { outcome: 'failed-open', problems: [], error: (err as Error).stack ?? String(err) };
    }
  }

  filter(args: ExtenderArgs): Decision<ExtenderFilterResult> {
    const { value, outcome, problems, error } = this.attempt(args, (req) => {
      const { passed, failed, problems } = filterNodes(req);
      return { value: { passed, failed }, problems };
    });
    const passed: readonly string[] = value?.passed ?? args.nodeNames;
    const failed = value?.failed ?? {};
    const answer: ExtenderFilterResult = {
      Nodes: null,
      NodeNames: null,
      FailedNodes: failed,
      FailedAndUnresolvableNodes: {},
      Error: '',
    };
    if (args.nodeItems) answer.Nodes = { metadata: {}, items: keep(args.nodeItems, args.nodeNames, passed) };
    else answer.NodeNames = passed as string[];
    return { answer, outcome, problems, detail: () => ({ nodes: args.nodeNames.length, passed: passed.length, failed, problems, error }) };
  }

  /** Scores aligned with `args.nodeNames` (no HostPriority object per node: the extender encodes straight from them). */
  prioritize(args: ExtenderArgs): Decision<NodeScores> {
    const { value, outcome, problems, error } = this.attempt(args, (req) => ({ value: scoreNodes(this.opts.policy, req), problems: [] }));
    const answer: NodeScores = { names: args.nodeNames, scores: value ?? new Uint8Array(args.nodeNames.length) };
    return {
      answer,
      outcome,
      problems,
      detail: () => ({ nodes: answer.names.length, policy: this.opts.policy, top: summarise(hostPriorities(answer)), problems, error }),
    };
  }

  /**
   * The score breakdown of a pod on each of `nodes`, with the pod's Datasets and any problems, and
   * for a pod with a locality requirement the filter's verdict on each node.
   */
  explain(pod: PodLike, nodes: readonly string[]): ExplainAnswer {
    const req = this.requestFor(pod, nodes);
    const problems = [...req.problems];
    let verdict: ((node: string) => { passed: boolean; reason?: string }) | undefined;
    if (localityRequirement(pod.metadata?.annotations).requirement.mode !== 'none') {
      const f = filterNodes(req);
      problems.push(...f.problems);
      verdict = (node) => (Object.hasOwn(f.failed, node) ? { passed: false, reason: f.failed[node] } : { passed: true });
    }
    return {
      pod: `${pod.metadata?.namespace || 'default'}/${pod.metadata?.name ?? ''}`,
      policy: this.opts.policy,
      ready: this.opts.ready(),
      datasets: req.datasets.map((d) => `${d.namespace}/${d.name}`),
      problems,
      nodes: nodes.map((node) => explain(this.opts.policy, req, node, verdict?.(node))),
    };
  }
}

/** A prioritize answer: `scores[i]` (0..10) is node `names[i]`'s. */
export interface NodeScores {
  names: readonly string[];
  scores: ArrayLike<number>;
}

/** The scheduler's HostPriorityList of a prioritize answer. */
export function hostPriorities({ names, scores }: NodeScores): HostPriority[] {
  const list = new Array<HostPriority>(names.length);
  for (let i = 0; i < names.length; i++) list[i] = { Host: names[i], Score: scores[i] };
  return list;
}

interface Attempt<T> {
  value?: T;
  outcome: Outcome;
  problems: Problem[];
  error?: string;
}

export interface ExplainAnswer {
  pod: string;
  policy: PolicyName;
  ready: boolean;
  datasets: string[];
  problems: Problem[];
  nodes: Explanation[];
}

/** The Node objects whose names passed, in the scheduler's order. */
function keep(items: unknown[], names: readonly string[], passed: readonly string[]): unknown[] {
  if (passed.length === names.length) return items;
  const ok = new Set(passed);
  const out: unknown[] = [];
  for (let i = 0; i < items.length; i++) if (ok.has(names[i])) out.push(items[i]);
  return out;
}

/** The best few scores, enough for a log line at 5,000 nodes. */
function summarise(list: HostPriority[]): HostPriority[] {
  return list.length <= 5 ? list : [...list].sort((a, b) => b.Score - a.Score).slice(0, 5);
}
