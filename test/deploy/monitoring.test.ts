// The Grafana dashboard and the PrometheusRule ask only for what the components export: every metric
// they name is in a component's registry (src/metrics/*), with the type its suffix implies and the
// label names the query uses, and every label value they match on is one the code writes. Each alert
// has its runbook in the README.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Registry } from 'prom-client';
import { parse } from 'yaml';
import { agentMetrics } from '../../src/metrics/agent.js';
import { createExtenderMetrics } from '../../src/metrics/extender.js';
import { createOperatorMetrics } from '../../src/metrics/operator.js';
import { webhookMetrics } from '../../src/metrics/webhook.js';

interface Rule {
  alert?: string;
  expr: string;
  annotations?: { runbook?: string };
}

const dashboard = JSON.parse(readFileSync('deploy/monitoring/locus-dashboard.json', 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
const rules = (parse(readFileSync('deploy/monitoring/prometheusrule.yaml', 'utf8')) as { spec: { groups: { rules: Rule[] }[] } }).spec.groups.flatMap(
  (g) => g.rules,
);
const queries: [string, string][] = [
  ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t): [string, string] => [`panel "${p.title}"`, t.expr])),
  ...rules.map((r): [string, string] => [`alert ${r.alert ?? '?'}`, r.expr]),
];

const SUFFIXES: Record<string, string> = { _bucket: 'histogram', _count: 'histogram', _sum: 'histogram' };

/** Every string literal in src/, for label values. */
function sourceText(dir = 'src'): string {
  return readdirSync(dir)
    .map((f) => join(dir, f))
    .map((p) => (statSync(p).isDirectory() ? sourceText(p) : p.endsWith('.ts') ? readFileSync(p, 'utf8') : ''))
    .join('\n');
}

describe('deploy/monitoring: dashboard and alerts', () => {
  const registries: Registry[] = [
    createExtenderMetrics(() => ({ nodes: 0, datasets: 0, inventories: 0, liveInventories: 0, blocks: 0, bytes: 0 })).registry,
    createOperatorMetrics({ podsPerDataset: () => new Map(), queueDepth: () => 0 }).registry,
    webhookMetrics(() => 0).registry,
    agentMetrics().registry,
  ];
  const find = (name: string) => {
    for (const r of registries) {
      const m = r.getSingleMetric(name) as { labelNames?: string[]; constructor: { name: string } } | undefined;
      if (m) return { labels: m.labelNames ?? [], type: m.constructor.name.toLowerCase() };
    }
    return undefined;
  };

  it('queries exist: a dashboard panel per topic and the alerts the runbooks cover', () => {
    expect(queries.length).to.be.greaterThan(15);
    const all = queries.map(([, q]) => q).join('\n');
    for (const metric of [
      'locus_extender_requests_total',
      'locus_extender_request_duration_seconds_bucket',
      'locus_agent_last_report_timestamp_seconds',
      'locus_extender_node_ttl_expiries_total',
      'locus_agent_block_hits_total',
      'locus_agent_block_misses_total',
      'locus_agent_served_bytes_total',
      'locus_agent_evictions_total',
      'locus_operator_reconciles_total',
      'locus_webhook_admissions_total',
      'locus_webhook_certificate_expiry_seconds',
    ]) {
      expect(all, metric).to.include(metric);
    }
    expect(all).to.include('outcome="failed-open"');
    expect(rules.map((r) => r.alert)).to.include.members([
      'LocusExtenderFailingOpen',
      'LocusAgentSilent',
      'LocusWebhookCertificateExpiring',
      'LocusOperatorReconcileErrors',
    ]);
  });

  it("every metric named is in a component's registry, with the label names the query uses", () => {
    const problems: string[] = [];
    for (const [where, q] of queries) {
      for (const m of q.matchAll(/\b(locus_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
        let name = m[1];
        let metric = find(name);
        const suffix = Object.keys(SUFFIXES).find((s) => name.endsWith(s));
        if (!metric && suffix) {
          name = name.slice(0, -suffix.length);
          metric = find(name);
          if (metric && metric.type !== SUFFIXES[suffix]) problems.push(`${where}: ${m[1]} but ${name} is a ${metric.type}`);
        }
        if (!metric) {
          problems.push(`${where}: ${m[1]} is in no registry`);
          continue;
        }
        for (const [, label] of (m[3] ?? '').matchAll(/([a-zA-Z_]+)\s*(?:=~|!~|!=|=)/g)) {
          if (!metric.labels.includes(label)) problems.push(`${where}: ${name} has no label ${label} (has ${metric.labels.join(', ') || 'none'})`);
        }
      }
      // by (...) groupings on Locus labels must name labels of some metric in the query
      for (const [, by] of q.matchAll(/by \(([^)]*)\)/g)) {
        for (const label of by
          .split(',')
          .map((s) => s.trim())
          .filter((l) => !['le', 'instance', 'pod', 'job'].includes(l))) {
          const names = [...q.matchAll(/\b(locus_[a-z0-9_]+)/g)].map((x) => x[1].replace(/_(bucket|count|sum)$/, ''));
          if (!names.some((n) => find(n)?.labels.includes(label))) problems.push(`${where}: by (${label}) but no metric of the query has it`);
        }
      }
    }
    expect(problems).to.deep.equal([]);
  });

  it('every label value matched on is one the code writes', () => {
    const src = sourceText();
    const missing: string[] = [];
    for (const [where, q] of queries) {
      for (const [, , value] of q.matchAll(/[a-z_]+\s*(=~|=)\s*"([^"]+)"/g)) {
        for (const v of value.split('|')) if (!src.includes(`'${v}'`)) missing.push(`${where}: "${v}"`);
      }
    }
    expect(missing).to.deep.equal([]);
  });

  it('each alert has a runbook heading in the README', () => {
    const readme = readFileSync('README.md', 'utf8');
    const anchors = new Set(
      [...readme.matchAll(/^#{1,6} (.+)$/gm)].map((h) =>
        h[1]
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const r of rules) {
      const anchor = r.annotations?.runbook?.split('#')[1];
      expect(anchor, `${r.alert} names a runbook`).to.be.a('string');
      expect(anchors.has(anchor!), `README has a heading for #${anchor}`).to.equal(true);
    }
  });
});
