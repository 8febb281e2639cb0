// Peer fill: on a miss of a Dataset block, read it from an agent of the zone whose NodeCache says it
// holds the block, before the object store. The request is the peer's S3 read path, signed with the
// Dataset's derived credentials as a pod's read is (the agent holds the agent key), and names the
// block by its id; the peer answers from its cache only (never from the object store, so a peer
// read never cascades) with the block's digest in a header. The bytes are taken only when their
// length and digest match; any failure or the timeout hands the block to the next source (upstream).
import { agentCredentials } from '../api/agent-credentials.js';
import type { BlockLoader } from './block-store.js';
import type { DatasetSource } from './catalogs.js';
import { blockIds, blockIndex } from './inventory.js';
import type { BlockSpec, Layout } from './layout.js';
import type { PeerDirectory } from './peer-directory.js';
import { signSigV4 } from './sigv4.js';

/** The query parameter naming the block a peer asks for: its presence makes a GetObject a peer read. */
export const PEER_BLOCK_PARAM = 'locus-peer-block';
/** The response header carrying the block's digest (blockDigest, hex). */
export const PEER_DIGEST_HEADER = 'x-locus-block-digest';

export type PeerFailure = 'timeout' | 'unreachable' | 'transfer' | 'status' | 'size' | 'checksum';

/** A peer read that failed; `reason` labels the metric. */
export class PeerError extends Error {
  constructor(
    readonly reason: PeerFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface PeerFillOptions {
  directory: PeerDirectory;
  /** Agent keys (the first current): requests are signed with the Dataset's derived credentials. Absent: unsigned (agents without authentication). */
  keys?: readonly Buffer[];
  region: string;
  /** Longest a whole peer read may take before the object store is asked instead. */
  timeoutMs: number;
  now(): number;
  random(): number;
}

export class PeerFill {
  constructor(private readonly opts: PeerFillOptions) {}

  /**
   * A loader reading the block from a peer of the zone that holds it, or undefined when the block is
   * not block `i` of the Dataset's current layout or no peer holds it.
   */
  loader(spec: BlockSpec, source: DatasetSource, layout: Layout): BlockLoader | undefined {
    const index = blockIndex(spec, layout);
    if (index === undefined) return undefined;
    const id = blockIds(layout).ids[index];
    const peers = this.opts.directory.holders(`${source.namespace}/${source.name}`, layout.version, layout.blockSize, index);
    if (peers.length === 0) return undefined;
    const peer = peers[Math.floor(this.opts.random() * peers.length)];
    return (s, sink) => this.read(peer.url, source, id, s, sink);
  }

  private async read(base: string, source: DatasetSource, id: string, spec: BlockSpec, sink: (part: number, chunk: Buffer) => Promise<void>) {
    const url = new URL(base);
    const path = `/${spec.bucket}/${spec.parts[0].key.split('/').map(encodeURIComponent).join('/')}?${PEER_BLOCK_PARAM}=${id}`;
    const key = this.opts.keys?.[0];
    const headers = key ? signSigV4({ method: 'GET', url: path, host: url.host }, creds(key, source), this.opts.region, this.opts.now()) : {};
    delete headers.host; // set by fetch from the URL, as signed
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    let res: Response;
    try {
      res = await fetch(new URL(path, url), { headers, signal });
    } catch (err) {
      throw failure(err, 'unreachable');
    }
    const digest = res.headers.get(PEER_DIGEST_HEADER);
    const length = Number(res.headers.get('content-length'));
    const refuse = async (reason: PeerFailure, message: string) => {
      await res.body?.cancel().catch(() => undefined);
      return new PeerError(reason, message);
    };
    if (res.status !== 200) throw await refuse('status', `peer ${base} answered ${res.status}`);
    if (length !== spec.length) throw await refuse('size', `peer ${base} sent ${length} bytes for a block of ${spec.length}`);
    if (!digest || !/^[0-9a-f]{64}$/.test(digest)) throw await refuse('checksum', `peer ${base} sent no block digest`);
    let part = 0;
    let inPart = 0;
    let total = 0;
    let diskError: unknown;
    const write = (i: number, b: Buffer) =>
      sink(i, b).catch((err: unknown) => {
        diskError = err;
        throw err;
      });
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        let b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        total += b.length;
        if (total > spec.length) throw new PeerError('size', `peer ${base} sent more than the block's ${spec.length} bytes`);
        while (b.length > 0) {
          const n = Math.min(b.length, spec.parts[part].length - inPart);
          await write(part, b.subarray(0, n));
          b = b.subarray(n);
          inPart += n;
          if (inPart === spec.parts[part].length) [part, inPart] = [part + 1, 0];
        }
      }
    } catch (err) {
      throw err === diskError ? err : failure(err, 'transfer');
    }
    if (total !== spec.length) throw new PeerError('size', `peer ${base} sent ${total} of the block's ${spec.length} bytes`);
    return { digest, source: 'peer' as const };
  }
}

function creds(key: Buffer, source: DatasetSource) {
  const c = agentCredentials(key, source.namespace, source.name);
  return { accessKeyId: c.accessKeyID, secretAccessKey: c.secretAccessKey };
}

/** A peer read's error as a PeerError: the timeout, or `otherwise` (connection refused, reset…). */
function failure(err: unknown, otherwise: PeerFailure): PeerError {
  if (err instanceof PeerError) return err;
  const name = (err as { name?: string }).name;
  if (name === 'TimeoutError' || name === 'AbortError') return new PeerError('timeout', 'the peer read timed out');
  return new PeerError(otherwise, `peer read failed: ${(err as Error).message}`);
}
