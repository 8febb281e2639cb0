// Copies per block in a zone: which holders of a block keep their copy when capacity is tight. The
// holders are ranked by rendezvous hashing of (block, node), so every node that sees the same holders
// ranks them alike and exactly the first `copies` keep the block, without the nodes talking to each
// other. The agents evict by this rule and the simulator models it with the same function.

/** The rendezvous weight of `node` for `block`: 32-bit FNV-1a of both, then a final avalanche. */
export function rank(block: string, node: string): number {
  let h = 0x811c9dc5;
  const s = `${block}\0${node}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * Whether `node`'s copy of `block` is one more than the zone needs: at least `copies` of the other
 * holders (`others`, never `node` itself) rank ahead of it (ties broken by node name).
 */
export function surplusCopy(block: string, node: string, others: Iterable<string>, copies: number): boolean {
  const mine = rank(block, node);
  let ahead = 0;
  for (const other of others) {
    const theirs = rank(block, other);
    if (theirs > mine || (theirs === mine && other < node)) ahead++;
    if (ahead >= copies) return true;
  }
  return false;
}
