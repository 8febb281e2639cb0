// ARCHIVE Datasets: download the archive (http/https, bounded in bytes and time) and put it into an
// object-store prefix, either as the one file it is or, when asked, as the files it holds (tar,
// optionally gzip-compressed). The Dataset is then an object-store Dataset like any other.
import { lookup } from 'node:dns/promises';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { extract as tarExtract } from 'tar-stream';
import type { S3Credentials, S3Location } from '../catalog/s3.js';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './config.js';

export interface ArchiveJob {
  url: string;
  extract: boolean;
  /** Where the files go; `prefix` ends with `/` or is empty. */
  target: S3Location;
  credentials: S3Credentials;
}

export interface StagingProgress {
  phase: 'downloading' | 'uploading';
  bytes: number;
  /** From Content-Length, when the server sent one. */
  totalBytes?: number;
  objects: number;
}

export interface StagingResult {
  objects: number;
  bytes: number;
  /** What was downloaded: gzip-compressed tar, plain tar or any other file. */
  detected: 'tar+gzip' | 'tar' | 'file';
}

/** A staging that failed for a reason a user can act on (the message says which). */
export class ArchiveError extends Error {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
    this.name = 'ArchiveError';
  }
}

/** Downloads `job.url` and uploads it, or what it holds, under `job.target`. */
export async function stageArchive(
  job: ArchiveJob,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
  onProgress: (p: StagingProgress) => void = () => {},
  signal?: AbortSignal,
): Promise<StagingResult> {
  const deadline = AbortSignal.timeout(limits.timeoutMs);
  const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
  const dir = await mkdtemp(join(tmpdir(), 'locus-archive-'));
  const file = join(dir, 'download');
  const client = new S3Client({
    endpoint: job.target.endpoint,
    region: job.target.region || 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: job.credentials.accessKeyID, secretAccessKey: job.credentials.secretAccessKey },
    maxAttempts: 3,
    // Plain PUTs with Content-Length: aws-chunked checksum framing is not spoken by every S3 server.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    // Failures reach the Dataset's condition; the SDK's own console warnings would only repeat them.
    logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  try {
    const downloaded = await download(job.url, file, limits, onProgress, abort);
    const detected = await detect(file);
    if (!job.extract) {
      const key = `${job.target.prefix ?? ''}${fileName(job.url)}`;
      await put(client, job.target.bucket, key, createReadStream(file), downloaded, abort);
      onProgress({ phase: 'uploading', bytes: downloaded, objects: 1 });
      return { objects: 1, bytes: downloaded, detected };
    }
    if (detected === 'file') {
      throw new ArchiveError(
        `${job.url} is not a tar archive (gzip-compressed or not), so it cannot be extracted: set extract to "false" to keep it as one file, or point url at a .tar or .tar.gz`,
        'NotATar',
      );
    }
    return await extractTo(client, job, file, detected, limits, onProgress, abort);
  } catch (err) {
    if (deadline.aborted) {
      throw new ArchiveError(
        `staging ${job.url} took longer than ${Math.round(limits.timeoutMs / 1000)} s; the operator's limit (--archive-timeout) stops it there`,
        'Timeout',
      );
    }
    throw err;
  } finally {
    client.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The object name of a file that is not extracted: the URL's last path segment, as `wget` names it. */
export function fileName(url: string): string {
  const base = posix.basename(new URL(url).pathname);
  return base && base !== '/' ? base : 'archive';
}

/**
 * The object key of a tar entry, or undefined when the entry must be skipped: a leading `./` or `/`
 * is dropped, and names that climb out of the prefix (`..`) are never written.
 */
export function entryKey(prefix: string, name: string): string | undefined {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) return undefined;
  return `${prefix}${parts.join('/')}`;
}

async function download(url: string, file: string, limits: ArchiveLimits, onProgress: (p: StagingProgress) => void, signal: AbortSignal): Promise<number> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const { protocol, hostname } = new URL(current);
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new ArchiveError(`${current} is not an http(s) URL: only http and https archives are downloaded`, 'UnsupportedURL');
    }
    await refuseLinkLocal(current, hostname);
    let res: Response;
    try {
      res = await fetch(current, { redirect: 'manual', signal });
    } catch (err) {
      if (signal.aborted) throw err;
      throw new ArchiveError(
        `could not download ${current}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}; check the URL and that the operator can reach it`,
        'DownloadFailed',
      );
    }
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      await res.body?.cancel();
      if (hop >= limits.maxRedirects) throw new ArchiveError(`${url} redirects more than ${limits.maxRedirects} times`, 'TooManyRedirects');
      current = new URL(res.headers.get('location')!, current).toString();
      continue;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new ArchiveError(`downloading ${current} answered HTTP ${res.status}; check spec.url`, 'DownloadFailed');
    }
    const length = Number(res.headers.get('content-length') ?? NaN);
    const totalBytes = Number.isFinite(length) ? length : undefined;
    if (totalBytes !== undefined && totalBytes > limits.maxDownloadBytes) {
      await res.body.cancel();
      throw tooBig(url, limits);
    }
    let bytes = 0;
    let reported = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done: TransformCallback) {
        bytes += chunk.length;
        if (bytes > limits.maxDownloadBytes) return done(tooBig(url, limits));
        if (bytes - reported >= 1024 * 1024) {
          reported = bytes;
          onProgress({ phase: 'downloading', bytes, totalBytes, objects: 0 });
        }
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]), count, createWriteStream(file), { signal });
    onProgress({ phase: 'downloading', bytes, totalBytes, objects: 0 });
    return bytes;
  }
}

/**
 * Link-local addresses (169.254.0.0/16, fe80::/10) hold cloud instance metadata and its credentials:
 * a Dataset's URL, or a redirect, never reaches them through the operator.
 */
async function refuseLinkLocal(url: string, hostname: string): Promise<void> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host)
    ? [host]
    : await lookup(host, { all: true }).then(
        (a) => a.map((x) => x.address),
        () => [],
      );
  if (addresses.some((a) => /^169\.254\./.test(a) || /^fe[89ab][0-9a-f]:/i.test(a))) {
    throw new ArchiveError(`${url} points at a link-local address, where cloud metadata lives: archives are not downloaded from there`, 'ForbiddenAddress');
  }
}

const tooBig = (url: string, limits: ArchiveLimits) =>
  new ArchiveError(`${url} is larger than ${limits.maxDownloadBytes} bytes, the operator's limit (--archive-max-bytes)`, 'TooLarge');

/** gzip by its magic bytes; tar by the `ustar` magic at offset 257 of the (decompressed) first block. */
async function detect(file: string): Promise<StagingResult['detected']> {
  const head = await readHead(file, 512);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const inner = await firstBytes(createReadStream(file).pipe(createGunzip()), 512).catch(() => Buffer.alloc(0));
    return isTar(inner) ? 'tar+gzip' : 'file';
  }
  return isTar(head) ? 'tar' : 'file';
}

const isTar = (block: Buffer) => block.length >= 262 && block.subarray(257, 262).toString('latin1') === 'ustar';

async function readHead(file: string, n: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const { size } = await stat(file);
    const buf = Buffer.alloc(Math.min(n, size));
    await fh.read(buf, 0, buf.length, 0);
    return buf;
  } finally {
    await fh.close();
  }
}

async function firstBytes(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  for await (const chunk of stream) {
    chunks.push(chunk as Buffer);
    have += (chunk as Buffer).length;
    if (have >= n) break;
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, n);
}

async function extractTo(
  client: S3Client,
  job: ArchiveJob,
  file: string,
  detected: 'tar' | 'tar+gzip',
  limits: ArchiveLimits,
  onProgress: (p: StagingProgress) => void,
  signal: AbortSignal,
): Promise<StagingResult> {
  const prefix = job.target.prefix ?? '';
  const scratch = `${file}.entry`;
  const tar = tarExtract();
  const source = createReadStream(file);
  const input = detected === 'tar+gzip' ? source.pipe(createGunzip()) : source;
  input.on('error', (err: Error) => tar.destroy(err));
  input.pipe(tar);
  let objects = 0;
  let bytes = 0;
  try {
    for await (const entry of tar) {
      const { header } = entry;
      const key = entryKey(prefix, header.name);
      // Directories, links and device files are no objects; names that climb out are never written.
      if (header.type !== 'file' || key === undefined) {
        entry.resume();
        continue;
      }
      const size = header.size ?? 0;
      if (objects + 1 > limits.maxEntries)
        throw new ArchiveError(`${job.url} holds more than ${limits.maxEntries} files, the operator's limit`, 'TooManyFiles');
      if (bytes + size > limits.maxExtractedBytes) {
        throw new ArchiveError(
          `${job.url} unpacks to more than ${limits.maxExtractedBytes} bytes, the operator's limit (--archive-max-extracted-bytes)`,
          'TooLarge',
        );
      }
      // Through a file: signing a request over plain http hashes the body, which a stream read once cannot give.
      await pipeline(entry, createWriteStream(scratch), { signal });
      await put(client, job.target.bucket, key, createReadStream(scratch), size, signal);
      objects++;
      bytes += size;
      onProgress({ phase: 'uploading', bytes, objects });
    }
  } catch (err) {
    source.destroy();
    if (err instanceof ArchiveError || signal.aborted) throw err;
    throw new ArchiveError(`extracting ${job.url} failed: ${(err as Error).message}`, 'ExtractFailed');
  }
  return { objects, bytes, detected };
}

async function put(client: S3Client, bucket: string, key: string, body: Readable, length: number, signal: AbortSignal): Promise<void> {
  try {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: length }), { abortSignal: signal });
  } catch (err) {
    if (signal.aborted) throw err;
    const e = err as { name?: string; message?: string };
    throw new ArchiveError(
      `writing s3://${bucket}/${key} failed: ${e.name ?? 'Error'}: ${e.message ?? ''}; check the bucket exists and the keys may write to it`,
      'UploadFailed',
    );
  }
}
