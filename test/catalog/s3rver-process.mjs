// Runs s3rver on 127.0.0.1 in its own process: s3rver encrypts ListObjectsV2 continuation tokens
// with DES, which Node 20's OpenSSL 3 only offers with --openssl-legacy-provider.
// argv: <directory> <bucket>...; prints {"port": N} once listening; stops on SIGTERM or stdin EOF.
import { createRequire } from 'node:module';
import process from 'node:process';

const S3rver = createRequire(import.meta.url)('s3rver');
const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + '\n');
const stop = () => server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
