import { expect } from 'chai';
import fc from 'fast-check';
import { hostPriorities } from '../../src/core/decisions.js';
import { filterResultBuffer, prioritiesBuffer } from '../../src/extender/answer-buffer.js';

// Node names are DNS names in practice, but any string must come out as JSON.stringify writes it.
const name = fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,30}$/), fc.string({ unit: 'binary' }), fc.string());

describe('extender/answer-buffer', () => {
  it('prioritize answers are the bytes of JSON.stringify of the HostPriority list (property)', () => {
    const score = fc.oneof(fc.integer({ min: 0, max: 10 }), fc.double(), fc.integer());
    fc.assert(
      fc.property(fc.array(fc.tuple(name, score)), fc.boolean(), (pairs, typed) => {
        const list = pairs.map(([Host, Score]) => ({ Host, Score }));
        const names = pairs.map(([host]) => host);
        // The core's scores come as a plain array; neutral answers as a Uint8Array of zeros.
        const scores = typed ? Uint8Array.from(pairs, ([, s]) => (Number.isInteger(s) && s >= 0 && s <= 10 ? s : 0)) : pairs.map(([, s]) => s);
        const expected = typed ? list.map((hp, i) => ({ Host: hp.Host, Score: scores[i] })) : list;
        expect(prioritiesBuffer({ names, scores }).equals(Buffer.from(JSON.stringify(expected)))).to.equal(true);
        expect(hostPriorities({ names, scores })).to.deep.equal(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('filter answers are the bytes of JSON.stringify, names only or Node objects (property)', () => {
    const result = fc.record({
      Nodes: fc.option(fc.record({ metadata: fc.constant({}), items: fc.array(fc.jsonValue()) }), { nil: null }),
      NodeNames: fc.option(fc.array(name), { nil: null }),
      FailedNodes: fc.dictionary(name, fc.string()),
      FailedAndUnresolvableNodes: fc.dictionary(name, fc.string({ unit: 'binary' })),
      Error: fc.string(),
    });
    fc.assert(
      fc.property(result, (r) => {
        const answer = r as Parameters<typeof filterResultBuffer>[0];
        expect(filterResultBuffer(answer).toString('utf8')).to.equal(JSON.stringify(answer));
        expect(filterResultBuffer(answer).length).to.equal(Buffer.byteLength(JSON.stringify(answer)));
      }),
      { numRuns: 300 },
    );
  });
});
