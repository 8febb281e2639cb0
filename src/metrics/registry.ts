// Each component's metrics live in a registry of their own (so in-process replicas in tests do not
// collide), named locus_<component>_*; the process's own metrics only when a CLI asks for them.
import { Registry, collectDefaultMetrics } from 'prom-client';

export function componentRegistry(component: 'extender' | 'operator' | 'webhook' | 'agent', processMetrics = false): Registry {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix: `locus_${component}_` });
  return registry;
}
