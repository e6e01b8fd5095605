/**
 * graph-node's `BigDecimal` semantics in JavaScript: value = digits × 10^exp, results rounded to
 * 34 significant digits (half to even) and normalized (no trailing zeros in `digits`), printed as
 * a plain decimal without exponent.
 */

export interface Decimal {
  digits: bigint;
  exp: bigint;
}

const PRECISION = 34;

function digitCount(n: bigint): number {
  return (n < 0n ? -n : n).toString().length;
}

export function normalize(d: Decimal): Decimal {
  if (d.digits === 0n) return { digits: 0n, exp: 0n };
  let { digits, exp } = d;
  while (digits % 10n === 0n) {
    digits /= 10n;
    exp += 1n;
  }
  return { digits, exp };
}

/** Rounds to PRECISION significant digits, half to even. */
function round(d: Decimal): Decimal {
  const excess = digitCount(d.digits) - PRECISION;
  if (excess <= 0) return normalize(d);
  const divisor = 10n ** BigInt(excess);
  const negative = d.digits < 0n;
  const abs = negative ? -d.digits : d.digits;
  let q = abs / divisor;
  const r = abs % divisor;
  const twice = 2n * r;
  if (twice > divisor || (twice === divisor && q % 2n === 1n)) q += 1n;
  return normalize({ digits: negative ? -q : q, exp: d.exp + BigInt(excess) });
}

function align(a: Decimal, b: Decimal): [bigint, bigint, bigint] {
  const exp = a.exp < b.exp ? a.exp : b.exp;
  return [a.digits * 10n ** (a.exp - exp), b.digits * 10n ** (b.exp - exp), exp];
}

export function plus(a: Decimal, b: Decimal): Decimal {
  const [x, y, exp] = align(a, b);
  return round({ digits: x + y, exp });
}

export function minus(a: Decimal, b: Decimal): Decimal {
  const [x, y, exp] = align(a, b);
  return round({ digits: x - y, exp });
}

export function times(a: Decimal, b: Decimal): Decimal {
  return round({ digits: a.digits * b.digits, exp: a.exp + b.exp });
}

export function dividedBy(a: Decimal, b: Decimal): Decimal {
  if (b.digits === 0n) throw new Error("BigDecimal division by zero");
  // Scale the dividend so the quotient carries PRECISION + 2 digits before rounding.
  const shift = BigInt(Math.max(0, PRECISION + 2 - digitCount(a.digits) + digitCount(b.digits)));
  return round({ digits: (a.digits * 10n ** shift) / b.digits, exp: a.exp - b.exp - shift });
}

export function equals(a: Decimal, b: Decimal): boolean {
  const x = normalize(a);
  const y = normalize(b);
  return x.digits === y.digits && x.exp === y.exp;
}

export function fromString(s: string): Decimal {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s.trim());
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) throw new Error(`invalid BigDecimal string: "${s}"`);
  const intPart = m[2] ?? "";
  const frac = m[3] ?? "";
  const digits = BigInt((m[1] === "-" ? "-" : "") + (intPart + frac || "0"));
  const exp = BigInt(m[4] ?? "0") - BigInt(frac.length);
  return round({ digits, exp });
}

export function toString(d: Decimal): string {
  const { digits, exp } = normalize(d);
  const negative = digits < 0n;
  const abs = (negative ? -digits : digits).toString();
  let out: string;
  if (exp >= 0n) out = abs + "0".repeat(Number(exp));
  else {
    const point = abs.length + Number(exp);
    out = point > 0 ? `${abs.slice(0, point)}.${abs.slice(point)}` : `0.${"0".repeat(-point)}${abs}`;
  }
  return negative ? `-${out}` : out;
}
