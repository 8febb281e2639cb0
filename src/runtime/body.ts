// Reading a JSON request body with a size limit: 413 past the limit, 400 for bad JSON, never a hang.
import type { IncomingMessage } from 'node:http';

/** An error with the HTTP status it maps to; the message is shown to the caller. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readText(req, limit);
  if (text.trim() === '') throw new HttpError(400, 'the request body is empty; send the JSON object the verb expects');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `the request body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * The body as one string. Events rather than async iteration, whose promises and ticks showed in
 * the extender's profile. Past the limit the rest is discarded as it comes and the caller answers
 * 413, closing the connection.
 */
function readText(req: IncomingMessage, limit: number): Promise<string> {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') {
    return Promise.reject(new HttpError(415, `Content-Encoding "${encoding}" is not supported; send the body uncompressed`));
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(declared, limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const data = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        settle();
        req.resume();
        reject(tooLarge(size, limit));
      }
    };
    const end = () => {
      settle();
      resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, size).toString('utf8'));
    };
    // The caller's connection broke (nobody reads the answer, but it is counted as the caller's doing).
    const fail = (err?: Error) => {
      settle();
      reject(new HttpError(400, `the connection closed before the request body was complete${err ? ` (${err.message})` : ''}`));
    };
    const closed = () => fail();
    const settle = () => {
      req.off('data', data);
      req.off('end', end);
      req.off('error', fail);
      req.off('close', closed);
    };
    req.on('data', data);
    req.on('end', end);
    req.on('error', fail);
    req.on('close', closed);
  });
}

function tooLarge(size: number, limit: number): HttpError {
  return new HttpError(413, `the request body (${size} bytes or more) exceeds the limit of ${limit} bytes; raise --body-limit`);
}
