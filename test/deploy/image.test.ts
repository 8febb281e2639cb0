// The image and the manifests that run it. No Docker engine is needed: the Dockerfile's build stage is
// reproduced (its build context, filtered by .dockerignore, compiled with `npm run build`'s tsc), every
// path it copies must then exist, the runtime stage installs production dependencies only and the code
// it ships imports nothing else; and every Locus container under deploy/ names the one image that
// `kustomize edit set image` replaces.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { parse, parseAllDocuments } from 'yaml';
import { skipBecause } from '../support/skip.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

interface Stage {
  name: string;
  from: string;
  workdir: string;
  lines: string[];
}

/** The Dockerfile as stages of instructions (continuation lines joined, comments dropped). */
function stages(): Stage[] {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const out: Stage[] = [];
  for (const line of text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.push({ name: from[2] ?? String(out.length), from: from[1], workdir: '/', lines: [] });
    else {
      const stage = out[out.length - 1];
      const wd = /^WORKDIR\s+(\S+)/i.exec(line);
      if (wd) stage.workdir = wd[1];
      stage.lines.push(line);
    }
  }
  return out;
}

/** COPY [--from=stage] <src>... <dest> */
function copies(stage: Stage): { from?: string; sources: string[]; dest: string }[] {
  return stage.lines
    .filter((l) => /^COPY\s/i.test(l))
    .map((l) => {
      const words = l.split(/\s+/).slice(1);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((w) => !w.startsWith('--'));
      return { from, sources: paths.slice(0, -1), dest: paths[paths.length - 1] };
    });
}

/** .dockerignore as the builder reads it: last matching pattern wins, `!` re-includes. */
function dockerIgnored(path: string): boolean {
  const rules = readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  let ignored = false;
  for (const rule of rules) {
    const negate = rule.startsWith('!');
    const pattern = (negate ? rule.slice(1) : rule).replace(/\/$/, '');
    const re = new RegExp(
      `^${pattern
        .split('/')
        .map((p) => (p === '**' ? '.*' : p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')))
        .join('/')}(/.*)?$`,
    );
    if (re.test(path)) ignored = !negate;
  }
  return ignored;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('Dockerfile', function () {
  this.timeout(300_000);
  const [build, runtime] = stages();
  let ctx: string;

  before(async function () {
    expect(stages().map((s) => s.name)).to.deep.equal(['build', 'runtime']);
    // The build context the builder sends (after .dockerignore), with the installed node_modules beside it
    // standing in for `npm ci`; then the build stage's own command.
    ctx = mkdtempSync(join(tmpdir(), 'locus-image-'));
    for (const c of copies(build).filter((c) => !c.from)) {
      for (const s of c.sources) {
        expect(dockerIgnored(s), `${s} is copied but .dockerignore leaves it out of the context`).to.equal(false);
        cpSync(join(root, s), join(ctx, s), { recursive: true, filter: (p) => !dockerIgnored(relative(root, p)) });
      }
    }
    symlinkSync(join(root, 'node_modules'), join(ctx, 'node_modules'), 'dir');
    const run = build.lines.filter((l) => /^RUN\s/i.test(l)).map((l) => l.replace(/^RUN\s+/i, ''));
    expect(run).to.include('npm run build');
    expect(JSON.parse(readFileSync(join(ctx, 'package.json'), 'utf8')).scripts.build).to.match(/^tsc -p tsconfig\.json$/);
    await promisify(execFile)(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: ctx, timeout: 280_000 });
  });
  after(() => {
    if (ctx) rmSync(ctx, { recursive: true, force: true });
  });

  it('builds on Node 20 and runs on a slim Node 20', () => {
    expect(build.from).to.match(/^node:20[-.]/);
    expect(runtime.from).to.match(/^node:20[-.].*slim/);
  });

  it('every path the runtime stage copies exists: from the build stage after the build, the rest in the context', () => {
    for (const c of copies(runtime)) {
      for (const s of c.sources) {
        if (c.from === 'build') {
          expect(s.startsWith(`${build.workdir}/`), `${s} is under the build stage's WORKDIR`).to.equal(true);
          const built = join(ctx, s.slice(build.workdir.length + 1));
          expect(existsSync(built), `COPY --from=build ${s}: not there after npm run build`).to.equal(true);
        } else {
          expect(c.from, `COPY ${s}`).to.equal(undefined);
          expect(existsSync(join(root, s)), `COPY ${s}`).to.equal(true);
          expect(dockerIgnored(s), `${s} is left out of the context by .dockerignore`).to.equal(false);
        }
      }
    }
  });

  it('the runtime stage installs production dependencies only, from the lock file', () => {
    const installs = runtime.lines.filter((l) => /\bnpm\s+(ci|install|i)\b/.test(l));
    expect(installs).to.have.length(1);
    expect(installs[0]).to.match(/npm ci --omit=dev\b/);
    expect(copies(runtime).find((c) => c.sources.includes('package-lock.json'))).to.not.equal(undefined);
  });

  it('the code it ships imports only dependencies and Node built-ins, never a devDependency', () => {
    const shipped = copies(runtime)
      .filter((c) => c.from === 'build')
      .flatMap((c) => c.sources.map((s) => join(ctx, s.slice(build.workdir.length + 1))));
    const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules]);
    const missing = new Map<string, string>();
    const seen = new Set<string>();
    const files = shipped.flatMap((d) => (statSync(d).isDirectory() ? filesUnder(d) : [d])).filter((f) => f.endsWith('.js'));
    expect(files.length).to.be.greaterThan(100);
    for (const file of files) {
      for (const m of readFileSync(file, 'utf8').matchAll(
        /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm,
      )) {
        const spec = m[1] ?? m[2] ?? m[3];
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        seen.add(name);
        if (!allowed.has(name)) missing.set(name, relative(ctx, file));
      }
    }
    // the scan reads the compiled imports: the server libraries are among them
    expect([...seen]).to.include.members(['koa', 'zod', 'prom-client', '@kubernetes/client-node']);
    expect(Object.fromEntries(missing), 'imported by shipped code but not a production dependency').to.deep.equal({});
  });

  it("one entry point, locus (also kubectl-locus), as package.json's bins; a non-root user", () => {
    const lines = runtime.lines.join('\n');
    const target = /ln -s (\S+) \/usr\/local\/bin\/locus\b/.exec(lines)?.[1];
    expect(target).to.equal(`${runtime.workdir}/${pkg.bin.locus}`);
    expect(lines).to.include(`ln -s ${target} /usr/local/bin/kubectl-locus`);
    expect(pkg.bin['kubectl-locus']).to.equal(pkg.bin.locus);
    expect(existsSync(join(ctx, pkg.bin.locus))).to.equal(true);
    expect(readFileSync(join(ctx, pkg.bin.locus), 'utf8')).to.match(/^#!\/usr\/bin\/env node\n/);
    expect(lines).to.match(/^ENTRYPOINT \["locus"\]$/m);
    const user = /^USER\s+(\d+)(?::(\d+))?$/m.exec(lines);
    expect(Number(user?.[1]), 'USER is a numeric non-root uid (runAsNonRoot can check it)').to.be.greaterThan(0);
  });

  it('the bundled simulator traces land where the compiled simulator looks for them', () => {
    const traces = copies(runtime).find((c) => c.sources.includes('sim/traces'));
    expect(traces?.dest).to.equal('./dist/sim/traces');
    // sim/workloads/index.ts: join(dirname(<compiled file>), '..', 'traces')
    expect(existsSync(join(ctx, 'dist/sim/workloads/index.js'))).to.equal(true);
  });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

describe('deploy/ names one image', function () {
  this.timeout(60_000);
  const kubectl = join(root, '.k8s-bin/kubectl');
  const render = async (dir: string): Promise<Doc[]> => {
    const { stdout } = await promisify(execFile)(kubectl, ['kustomize', dir], { cwd: root, maxBuffer: 16 << 20 });
    return parseAllDocuments(stdout).map((d) => d.toJS() as Doc);
  };
  /** [workload/container, image] of every container and init container of every workload. */
  const images = (docs: Doc[]): [string, string][] =>
    docs
      .filter((d) => ['Deployment', 'DaemonSet', 'StatefulSet', 'Job', 'CronJob'].includes(d.kind))
      .flatMap((d) => {
        const spec = d.kind === 'CronJob' ? d.spec.jobTemplate.spec.template.spec : d.spec.template.spec;
        return [...(spec.initContainers ?? []), ...spec.containers].map((c: Doc): [string, string] => [`${d.kind}/${d.metadata.name}/${c.name}`, c.image]);
      });
  // the second scheduler is the stock kube-scheduler; everything else is Locus
  const locus = (list: [string, string][]) => list.filter(([where]) => where !== 'Deployment/locus-scheduler/kube-scheduler');

  before(function () {
    if (!existsSync(kubectl)) skipBecause(this, `needs ${kubectl}: run scripts/k8s/build.sh`);
  });

  it('every Locus container of every workload under deploy/ runs the image the kustomization names', async () => {
    const k = parse(readFileSync(join(root, 'deploy/kustomization.yaml'), 'utf8')) as { images: { name: string; newName: string; newTag: string }[] };
    expect(k.images).to.deep.equal([{ name: 'locus', newName: 'locus', newTag: pkg.version }]);
    const all = images(await render('deploy/'));
    expect(all.map(([w]) => w)).to.include.members([
      'Deployment/locus-extender/extender',
      'Deployment/locus-operator/operator',
      'Deployment/locus-webhook/webhook',
      'Deployment/locus-webhook/certs',
      'Deployment/locus-webhook/cert-renewal',
      'DaemonSet/locus-agent/agent',
      'DaemonSet/locus-agent/cache-dir-owner',
    ]);
    expect(new Set(locus(all).map(([, image]) => image))).to.deep.equal(new Set(['locus:0.1.0']));
  });

  it('`kustomize edit set image locus=…` (its edit of images:) moves every Locus container and nothing else', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'locus-deploy-'));
    try {
      cpSync(join(root, 'deploy'), join(copy, 'deploy'), { recursive: true });
      cpSync(join(root, 'scheduler-config'), join(copy, 'scheduler-config'), { recursive: true });
      const file = join(copy, 'deploy/kustomization.yaml');
      const text = readFileSync(file, 'utf8');
      // what `kustomize edit set image locus=registry.example.com/team/locus:1.2.3` writes
      writeFileSync(
        file,
        text.replace(/images:\n(?: {2}.*\n)+/, 'images:\n  - name: locus\n    newName: registry.example.com/team/locus\n    newTag: 1.2.3\n'),
      );
      const moved = images(await render(join(copy, 'deploy')));
      expect(new Set(locus(moved).map(([, image]) => image))).to.deep.equal(new Set(['registry.example.com/team/locus:1.2.3']));
      expect(moved.find(([w]) => w === 'Deployment/locus-scheduler/kube-scheduler')?.[1]).to.match(/^registry\.k8s\.io\/kube-scheduler:/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
