// Processes the suite starts (locus sub-commands, a second kube-scheduler). Each gets a pid file next to
// the control plane's, so scripts/e2e.sh's down.sh stops it even if mocha dies; each is killed on exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { cluster } from './env.js';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface Tracked {
  name: string;
  /** Whether the process is still running. */
  running(): boolean;
  /** The process' output so far (stdout and stderr), for failure messages. */
  log(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `command` detached from the terminal, output to `<state>/logs/<name>.log`. `name` must occur in the
 * command line: down.sh checks that before it signals a pid from a pid file.
 */
export function start(name: string, command: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Tracked {
  if (![command, ...args].some((a) => a.includes(name))) throw new Error(`${name} must occur in its own command line for down.sh`);
  const logs = join(cluster.state, 'logs');
  const pids = join(cluster.state, 'pids');
  mkdirSync(logs, { recursive: true });
  mkdirSync(pids, { recursive: true });
  const logFile = join(logs, `${name}.log`);
  const pidFile = join(pids, `${name}.pid`);
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { cwd: opts.cwd ?? cluster.root, env: { ...process.env, ...opts.env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  writeFileSync(pidFile, `${child.pid}\n`);
  live.add(child);
  let exited = false;
  child.on('exit', () => {
    exited = true;
    live.delete(child);
    rmSync(pidFile, { force: true });
  });
  return {
    name,
    running: () => !exited,
    log: () => readFileSync(logFile, 'utf8'),
    async stop(graceMs = 5000) {
      if (exited) return;
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    },
  };
}

/** `locus <sub> ...args` from the source tree, in one node process (no tsx wrapper) so its pid is the server's. */
export function startLocus(sub: string, args: string[], env?: Record<string, string>): Tracked {
  return start(sub, process.execPath, ['--import', 'tsx', join(cluster.root, 'src/cli/locus.ts'), sub, ...args], { env });
}
