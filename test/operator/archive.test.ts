import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ArchiveError, entryKey, fileName, stageArchive, type ArchiveJob, type StagingProgress } from '../../src/operator/archive.js';
import { DEFAULT_ARCHIVE_LIMITS } from '../../src/operator/config.js';
import { S3RVER_KEYS, startS3, type TestS3 } from '../catalog/s3rver.js';

/** Files of the archive the tests serve, built with the system's own tar and gzip. */
const FILES: Record<string, string> = {
  'weather/2019.csv': 'date,temp\n2019-01-01,3\n',
  'weather/2020.csv': 'date,temp\n2020-01-01,4\n'.repeat(5000),
  'README.txt': 'NOAA weather data, JFK airport\n',
};

describe('ARCHIVE staging (local HTTP server, s3rver)', function () {
  this.timeout(30_000);
  let s3: TestS3;
  let client: S3Client;
  let web: Server;
  let base: string;
  let dir: string;
  const served: Record<string, Buffer> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'locus-archive-test-'));
    const src = join(dir, 'src');
    for (const [name, body] of Object.entries(FILES)) {
      await mkdir(join(src, name, '..'), { recursive: true });
      await writeFile(join(src, name), body);
    }
    execFileSync('tar', ['-czf', join(dir, 'data.tar.gz'), '-C', src, '.']);
    execFileSync('tar', ['-cf', join(dir, 'data.tar'), '-C', src, 'weather']);
    served['/noaa/data.tar.gz'] = await readFile(join(dir, 'data.tar.gz'));
    served['/data.tar'] = await readFile(join(dir, 'data.tar'));
    served['/notes.txt'] = Buffer.from('just a file\n');
    web = createServer((req, res) => {
      const url = req.url ?? '';
      if (url === '/moved') return void res.writeHead(302, { location: '/noaa/data.tar.gz' }).end();
      if (url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
      if (url === '/to-metadata') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      if (url === '/endless') {
        // No Content-Length: only counting the bytes can stop it.
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024, 1);
        const pump = () => {
          while (res.write(chunk)) {
            /* fill the socket */
          }
        };
        res.on('drain', pump);
        pump();
        return;
      }
      if (url === '/slow') return void res.writeHead(200, { 'content-length': '100' }).write('x');
      const body = served[url];
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    s3 = await startS3(['staging']);
    client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3RVER_KEYS.accessKeyID, secretAccessKey: S3RVER_KEYS.secretAccessKey },
    });
  });
  after(async () => {
    client?.destroy();
    await s3?.close();
    web?.closeAllConnections();
    await new Promise((r) => web?.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  const job = (path: string, extract: boolean, prefix: string): ArchiveJob => ({
    url: `${base}${path}`,
    extract,
    target: { endpoint: s3.endpoint, bucket: 'staging', prefix },
    credentials: S3RVER_KEYS,
  });
  async function objects(prefix: string): Promise<Record<string, string>> {
    const page = await client.send(new ListObjectsV2Command({ Bucket: 'staging', Prefix: prefix }));
    const out: Record<string, string> = {};
    for (const o of page.Contents ?? []) {
      const got = await client.send(new GetObjectCommand({ Bucket: 'staging', Key: o.Key! }));
      out[o.Key!.slice(prefix.length)] = await got.Body!.transformToString();
    }
    return out;
  }

  it('extracts a real tar.gz into the prefix, one object per file, reporting progress', async () => {
    const progress: StagingProgress[] = [];
    const r = await stageArchive(job('/noaa/data.tar.gz', true, 'ml/noaa/'), DEFAULT_ARCHIVE_LIMITS, (p) => progress.push(p));
    expect(r).to.deep.equal({ objects: 3, bytes: Object.values(FILES).reduce((a, b) => a + b.length, 0), detected: 'tar+gzip' });
    expect(await objects('ml/noaa/')).to.deep.equal(FILES);
    expect(progress.some((p) => p.phase === 'downloading' && p.bytes === served['/noaa/data.tar.gz'].length)).to.equal(true);
    expect(progress.at(-1)).to.deep.include({ phase: 'uploading', objects: 3 });
  });

  it('extracts a plain tar, and follows a redirect to get there', async () => {
    expect((await stageArchive(job('/data.tar', true, 'plain/'))).detected).to.equal('tar');
    expect(Object.keys(await objects('plain/')).sort()).to.deep.equal(['weather/2019.csv', 'weather/2020.csv']);
    await stageArchive(job('/moved', true, 'moved/'));
    expect(await objects('moved/')).to.deep.equal(FILES);
  });

  it('without extract, uploads the archive as the one object wget would name', async () => {
    const r = await stageArchive(job('/noaa/data.tar.gz', false, 'whole/'));
    expect(r).to.deep.include({ objects: 1, bytes: served['/noaa/data.tar.gz'].length });
    expect(Object.keys(await objects('whole/'))).to.deep.equal(['data.tar.gz']);
  });

  const failure = async (p: Promise<unknown>): Promise<ArchiveError> => {
    try {
      await p;
    } catch (err) {
      expect(err).to.be.instanceOf(ArchiveError);
      return err as ArchiveError;
    }
    throw new Error('staging succeeded');
  };

  it('fails with a reason a user can act on', async () => {
    expect((await failure(stageArchive(job('/missing.tar.gz', true, 'x/')))).message).to.match(/answered HTTP 404; check spec.url/);
    expect((await failure(stageArchive(job('/notes.txt', true, 'x/')))).reason).to.equal('NotATar');
    expect((await failure(stageArchive(job('/loop', true, 'x/')))).reason).to.equal('TooManyRedirects');
    const metadata = { ...job('/x', true, 'x/'), url: 'http://169.254.169.254/latest/meta-data/iam/' };
    expect((await failure(stageArchive(metadata))).reason).to.equal('ForbiddenAddress');
    expect((await failure(stageArchive({ ...metadata, url: 'http://[fe80::1]/x.tar' }))).reason).to.equal('ForbiddenAddress');
    expect((await failure(stageArchive(job('/to-metadata', true, 'x/')))).message).to.match(
      /^http:\/\/169.254.169.254\/latest\/meta-data\/ points at a link-local address/,
    );
    const noBucket = { ...job('/data.tar', true, 'x/'), target: { endpoint: s3.endpoint, bucket: 'no-such-bucket', prefix: '' } };
    expect((await failure(stageArchive(noBucket))).message).to.match(/writing s3:\/\/no-such-bucket\/weather\/20[0-9]+.csv failed: NoSuchBucket/);
  });

  it('bounds the download in bytes (with or without Content-Length), the unpacked size and the time', async () => {
    const small = { ...DEFAULT_ARCHIVE_LIMITS, maxDownloadBytes: 100 };
    expect((await failure(stageArchive(job('/noaa/data.tar.gz', true, 'x/'), small))).reason).to.equal('TooLarge');
    expect((await failure(stageArchive(job('/endless', false, 'x/'), { ...DEFAULT_ARCHIVE_LIMITS, maxDownloadBytes: 4 * 1024 * 1024 }))).reason).to.equal(
      'TooLarge',
    );
    const bomb = { ...DEFAULT_ARCHIVE_LIMITS, maxExtractedBytes: 50_000 };
    expect((await failure(stageArchive(job('/noaa/data.tar.gz', true, 'x/'), bomb))).message).to.match(/unpacks to more than 50000 bytes/);
    expect((await failure(stageArchive(job('/noaa/data.tar.gz', true, 'x/'), { ...DEFAULT_ARCHIVE_LIMITS, maxEntries: 1 }))).reason).to.equal('TooManyFiles');
    const started = Date.now();
    expect((await failure(stageArchive(job('/slow', false, 'x/'), { ...DEFAULT_ARCHIVE_LIMITS, timeoutMs: 300 }))).reason).to.equal('Timeout');
    expect(Date.now() - started).to.be.lessThan(5000);
  });

  it('names objects safely: no climbing out of the prefix, no empty names', () => {
    expect(entryKey('p/', './a/b.csv')).to.equal('p/a/b.csv');
    expect(entryKey('p/', '/etc/passwd')).to.equal('p/etc/passwd');
    expect(entryKey('p/', '../../x')).to.equal(undefined);
    expect(entryKey('p/', 'a/../../x')).to.equal(undefined);
    expect(entryKey('p/', './')).to.equal(undefined);
    expect(fileName('https://cdn.example.com/noaa/1.1.4/noaa-weather.tar.gz?sig=1')).to.equal('noaa-weather.tar.gz');
    expect(fileName('https://cdn.example.com/')).to.equal('archive');
  });
});
