// One logger per process: JSON lines on stdout, named for the component, at the --log-level given.
import { pino, type Logger } from 'pino';

export function createLogger(component: string, level: string): Logger {
  return pino({ name: `locus-${component}`, level, base: { component } });
}
