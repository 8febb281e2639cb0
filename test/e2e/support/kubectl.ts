// kubectl from the built control plane, as a user would run it (the README's commands are kubectl commands).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { cluster } from './env.js';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl against the test cluster; never throws on a non-zero exit, the caller asserts on `code`. */
export function kubectl(args: string[], stdin?: string): Promise<Result> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      join(cluster.bin, 'kubectl'),
      args,
      {
        env: { ...process.env, KUBECONFIG: cluster.kubeconfig },
        cwd: cluster.root,
        timeout: 30_000,
        maxBuffer: 16 << 20,
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') reject(err);
        else resolvePromise({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
    child.stdin?.end(stdin);
  });
}

/** kubectl that must succeed; the error carries kubectl's own message. */
export async function kubectlOk(args: string[], stdin?: string): Promise<string> {
  const r = await kubectl(args, stdin);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}
