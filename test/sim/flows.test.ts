// Max-min fair flows against hand-computed cases, and the max-min property on random ones.
import { expect } from 'chai';
import fc from 'fast-check';
import { FlowNetwork } from '../../sim/flows.js';

/** Runs the network to the end, returning each flow's end time. */
function drain(net: FlowNetwork<string>, ends: Map<string, number>): void {
  for (let t = net.nextEnd(); Number.isFinite(t); t = net.nextEnd()) net.finish(t, (f) => ends.set(f, t));
}

describe('sim: flows share links max-min fairly', () => {
  it('two flows on one link get half each; when one ends early the other gets all of it', () => {
    const net = new FlowNetwork<string>([100]);
    net.start(0, [0], Infinity, 100, 'a');
    net.start(0, [0], Infinity, 300, 'b');
    expect(net.rateOf([0], Infinity)).to.equal(50);
    const ends = new Map<string, number>();
    // a: 100 B at 50 B/s → t = 2; b has 200 B left, alone at 100 B/s → t = 4.
    drain(net, ends);
    expect(ends.get('a')).to.be.closeTo(2, 1e-12);
    expect(ends.get('b')).to.be.closeTo(4, 1e-12);
    expect(net.size).to.equal(0);
  });

  it('a flow that starts later slows the first from then on', () => {
    const net = new FlowNetwork<string>([10]);
    net.start(0, [0], Infinity, 40, 'a');
    // a alone: 10 B/s for 1 s (10 B); then 5 B/s each; b (10 B) ends at 1 + 2 = 3 with a at 20 B;
    // a's last 20 B alone: t = 5.
    const ends = new Map<string, number>();
    net.finish(1, (f) => ends.set(f, 1));
    net.start(1, [0], Infinity, 10, 'b');
    drain(net, ends);
    expect(ends.get('b')).to.be.closeTo(3, 1e-12);
    expect(ends.get('a')).to.be.closeTo(5, 1e-12);
  });

  it('a stream ceiling caps a flow below its fair share, and the rest goes to the others', () => {
    const net = new FlowNetwork<string>([100]);
    net.start(0, [0], 10, 50, 'capped');
    net.start(0, [0], Infinity, 450, 'free');
    expect(net.rateOf([0], 10)).to.equal(10);
    expect(net.rateOf([0], Infinity)).to.equal(90);
    const ends = new Map<string, number>();
    drain(net, ends);
    expect(ends.get('capped')).to.be.closeTo(5, 1e-12);
    expect(ends.get('free')).to.be.closeTo(5, 1e-12);
  });

  it('the bottleneck moves from a NIC and the store to a second NIC and then to a ceiling', () => {
    // Links: 0 = store (100 B/s), 1 = node-1 NIC (30), 2 = node-2 NIC (100).
    // a crosses 1 and 0; b and c cross 2 and 0, c with a ceiling of 80.
    const net = new FlowNetwork<string>([100, 30, 100]);
    net.start(0, [1, 0], Infinity, 60, 'a');
    net.start(0, [2, 0], Infinity, 170, 'b');
    net.start(0, [2, 0], 80, 270, 'c');
    // a is held by its NIC at 30; the store's other 70 go to b and c: 35 each.
    expect(net.rateOf([1, 0], Infinity)).to.be.closeTo(30, 1e-9);
    expect(net.rateOf([2, 0], Infinity)).to.be.closeTo(35, 1e-9);
    expect(net.rateOf([2, 0], 80)).to.be.closeTo(35, 1e-9);
    const ends = new Map<string, number>();
    // t = 2: a done (60 B). b and c have 70 B each; now 50 B/s each (store and NIC 2 both full).
    // t = 4: b done (170 B). c has 170 B, alone: its ceiling of 80 binds; 100 B left → t = 5.25.
    drain(net, ends);
    expect(ends.get('a')).to.be.closeTo(2, 1e-12);
    expect(ends.get('b')).to.be.closeTo(4, 1e-12);
    expect(ends.get('c')).to.be.closeTo(5.25, 1e-12);
  });

  it('flows on links no other flow crosses do not affect each other', () => {
    const net = new FlowNetwork<string>([100, 40]);
    net.start(0, [0], Infinity, 100, 'x');
    net.start(0, [1], Infinity, 100, 'y');
    net.start(0, [1], Infinity, 100, 'z');
    expect(net.rateOf([0], Infinity)).to.equal(100);
    expect(net.rateOf([1], Infinity)).to.equal(20);
  });

  it('gives max-min fair rates: no link over capacity, and every flow is held by a ceiling or a full link where no flow gets more', () => {
    const flow = fc.record({
      links: fc.uniqueArray(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }),
      ceiling: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 200 })),
    });
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 5, maxLength: 5 }),
        fc.array(flow, { minLength: 1, maxLength: 12 }),
        (caps, flows) => {
          const net = new FlowNetwork<number>(caps);
          flows.forEach((f, i) => net.start(0, f.links, f.ceiling, 1e9, i));
          const rates = flows.map((f) => net.rateOf(f.links, f.ceiling));
          const load = caps.map(() => 0);
          flows.forEach((f, i) => f.links.forEach((l) => (load[l] += rates[i])));
          load.forEach((x, l) => expect(x).to.be.at.most(caps[l] * (1 + 1e-9)));
          flows.forEach((f, i) => {
            if (rates[i] >= f.ceiling * (1 - 1e-9)) return;
            const held = f.links.some(
              (l) => load[l] >= caps[l] * (1 - 1e-9) && flows.every((g, j) => !g.links.includes(l) || rates[j] <= rates[i] * (1 + 1e-9)),
            );
            expect(held, `flow ${i} at ${rates[i]}`).to.equal(true);
          });
        },
      ),
    );
  });
});
