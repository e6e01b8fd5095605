/**
 * The round arithmetic of the dispute game's bisection (docs/protocol.md §5.1), shared by both
 * phases. Pure: the Solidity game computes the same points and the tests compare them.
 */

/**
 * Interior points of a round over `[lo, hi]` with `w = 2^widthBits`:
 * `p_j = lo + floor(j·(hi − lo)/w)` for `j = 1..w−1`, without duplicates or points equal to lo/hi.
 */
export function roundPoints(lo: bigint, hi: bigint, widthBits: number): bigint[] {
  if (hi <= lo + 1n) throw new RangeError(`no round over [${lo}, ${hi}]: the range is already narrowed to one step`);
  if (!Number.isInteger(widthBits) || widthBits < 1 || widthBits > 8) {
    throw new RangeError(`widthBits must be an integer in 1..8, got ${widthBits}`);
  }
  const w = 1n << BigInt(widthBits);
  const span = hi - lo;
  const points: bigint[] = [];
  for (let j = 1n; j < w; j++) {
    const p = lo + (j * span) / w;
    if (p > lo && p < hi && p !== points[points.length - 1]) points.push(p);
  }
  return points;
}

/**
 * The range after a round: the first point where the two parties' values differ closes it;
 * if they agree on every point, the range is `[last point, hi]`.
 */
export function narrow(
  lo: bigint,
  hi: bigint,
  points: readonly bigint[],
  defenderValues: readonly string[],
  challengerValues: readonly string[],
): { lo: bigint; hi: bigint } {
  if (defenderValues.length !== points.length || challengerValues.length !== points.length) {
    throw new RangeError(
      `a round over ${points.length} points needs ${points.length} values from each side, got ${defenderValues.length} and ${challengerValues.length}`,
    );
  }
  let start = lo;
  for (let j = 0; j < points.length; j++) {
    if (defenderValues[j]!.toLowerCase() !== challengerValues[j]!.toLowerCase()) return { lo: start, hi: points[j]! };
    start = points[j]!;
  }
  return { lo: start, hi };
}

/** Number of rounds needed to narrow `[lo, hi]` to one step in the worst case. */
export function worstCaseRounds(lo: bigint, hi: bigint, widthBits: number): number {
  let rounds = 0;
  let span = hi - lo;
  while (span > 1n) {
    // The widest sub-range of a round is ceil(span / w) (or span − floor((w−1)·span/w)).
    const w = 1n << BigInt(widthBits);
    span = span - ((w - 1n) * span) / w;
    rounds++;
  }
  return rounds;
}
