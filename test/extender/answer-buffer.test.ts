import { expect } from 'chai';
import fc from 'fast-check';
import { filterResultBuffer, prioritiesBuffer } from '../../src/extender/answer-buffer.js';

// Node names are DNS names in practice, but any string must come out as JSON.stringify writes it.
const name = fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,30}$/), fc.string({ unit: 'binary' }), fc.string());

describe('extender/answer-buffer', () => {
  it('prioritize answers are the bytes of JSON.stringify (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ Host: name, Score: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.double(), fc.integer()) })), (list) => {
        expect(prioritiesBuffer(list).equals(Buffer.from(JSON.stringify(list)))).to.equal(true);
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
