/**
 * Kubernetes resource quantities (`500m`, `2`, `512Mi`, `1.5Gi`, `1e3`), held exactly.
 *
 * A quantity is stored as a whole number of nano-units (10^-9) in a bigint, so every decimal
 * suffix down to `n` and every binary suffix is exact, and sums never drift. Like Kubernetes,
 * precision finer than a nano-unit is rounded up.
 *
 * Printing follows the API server's canonical form, so what we send is what it stores and the
 * engine sees no diff between `2048Mi` and `2Gi`: a binary quantity (`Ki`..`Ei`) prints with the
 * largest binary suffix that divides it exactly, falling back to decimal below 1Ki or when not a
 * whole number of units; a decimal quantity prints with the largest power-of-1000 suffix that
 * leaves a whole mantissa (`1500m`, `2`, `1k`).
 *
 * @see https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
 */

export type QuantityFormat = "BinarySI" | "DecimalSI";

const NANO = 1_000_000_000n;

const BINARY: ReadonlyArray<readonly [string, bigint]> = [
  ["Ei", 1n << 60n],
  ["Pi", 1n << 50n],
  ["Ti", 1n << 40n],
  ["Gi", 1n << 30n],
  ["Mi", 1n << 20n],
  ["Ki", 1n << 10n],
];

/** Decimal suffixes with their power of ten. */
const DECIMAL: ReadonlyArray<readonly [string, number]> = [
  ["E", 18],
  ["P", 15],
  ["T", 12],
  ["G", 9],
  ["M", 6],
  ["k", 3],
  ["", 0],
  ["m", -3],
  ["u", -6],
  ["n", -9],
];

const PATTERN = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** Examples shown in error messages about quantities. */
export const QUANTITY_EXAMPLES = "examples: 500m, 2, 512Mi, 1Gi";

function pow10(exp: number): bigint {
  return 10n ** BigInt(exp);
}

/** Divides by a positive divisor rounding towards positive infinity, as Kubernetes does. */
function divCeil(a: bigint, b: bigint): bigint {
  // bigint division truncates towards zero, which is already upwards for negative dividends.
  return a > 0n ? (a + b - 1n) / b : a / b;
}

export class Quantity {
  private constructor(
    /** The amount in nano-units (10^-9 of the base unit: cores, bytes, pods). */
    readonly nanos: bigint,
    readonly format: QuantityFormat,
  ) {}

  static readonly ZERO = new Quantity(0n, "DecimalSI");

  /** Parses a quantity, or returns undefined when the text is not one. */
  static tryParse(input: string | number): Quantity | undefined {
    const text = typeof input === "number" ? numberText(input) : input.trim();
    if (text === undefined) return undefined;
    const m = PATTERN.exec(text);
    if (!m) return undefined;
    const [, sign, digits, suffix = ""] = m;
    const [whole, frac = ""] = digits.split(".");
    // mantissa = whole.frac as an integer over 10^frac.length
    const mantissa = BigInt((whole || "0") + frac);
    const scale = frac.length;
    let nanos: bigint;
    let format: QuantityFormat = "DecimalSI";
    const binary = BINARY.find(([s]) => s === suffix);
    if (binary) {
      format = "BinarySI";
      nanos = divCeil(mantissa * binary[1] * NANO, pow10(scale));
    } else {
      const decimal = DECIMAL.find(([s]) => s === suffix);
      const exp = decimal ? decimal[1] : Number(suffix.slice(1));
      if (!Number.isSafeInteger(exp) || Math.abs(exp) > 30) return undefined;
      // nanos = mantissa * 10^(exp + 9 - scale)
      const shift = exp + 9 - scale;
      nanos = shift >= 0 ? mantissa * pow10(shift) : divCeil(mantissa, pow10(-shift));
    }
    return new Quantity(sign === "-" ? -nanos : nanos, format);
  }

  /** Parses a quantity or throws an error naming the value and showing valid examples. */
  static parse(input: string | number): Quantity {
    const q = Quantity.tryParse(input);
    if (!q) {
      throw new Error(
        `${typeof input === "number" ? String(input) : JSON.stringify(input)} is not a Kubernetes quantity (${QUANTITY_EXAMPLES})`,
      );
    }
    return q;
  }

  /** A quantity of whole base units (cores, bytes, pods). */
  static of(units: number | bigint, format: QuantityFormat = "DecimalSI"): Quantity {
    return new Quantity(BigInt(units) * NANO, format);
  }

  /** A quantity from milli-units (millicores). */
  static fromMillis(millis: number | bigint): Quantity {
    return new Quantity(BigInt(millis) * 1_000_000n, "DecimalSI");
  }

  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.nanos === 0n ? other.format : this.format);
  }

  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos, this.format);
  }

  /** Multiplies by a whole number (replicas, pod counts). */
  times(n: number | bigint): Quantity {
    if (typeof n === "number" && !Number.isInteger(n)) {
      throw new Error(`Quantity.times expects a whole number, got ${n}`);
    }
    return new Quantity(this.nanos * BigInt(n), this.format);
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    return this.nanos < other.nanos ? -1 : this.nanos > other.nanos ? 1 : 0;
  }

  equals(other: Quantity): boolean {
    return this.nanos === other.nanos;
  }

  isZero(): boolean {
    return this.nanos === 0n;
  }

  static max(a: Quantity, b: Quantity): Quantity {
    return a.cmp(b) >= 0 ? a : b;
  }

  static min(a: Quantity, b: Quantity): Quantity {
    return a.cmp(b) <= 0 ? a : b;
  }

  static sum(items: Iterable<Quantity>): Quantity {
    let total = Quantity.ZERO;
    for (const q of items) total = total.add(q);
    return total;
  }

  /** The amount in milli-units, rounded up (Kubernetes' `MilliValue`). */
  milliValue(): number {
    return Number(divCeil(this.nanos, 1_000_000n));
  }

  /** The amount in whole base units, rounded up (Kubernetes' `Value`). */
  value(): number {
    return Number(divCeil(this.nanos, NANO));
  }

  /** The amount as a float in base units, for ratios and display only. */
  toNumber(): number {
    return Number(this.nanos) / 1e9;
  }

  /** Returns the same amount printed in the given format family. */
  withFormat(format: QuantityFormat): Quantity {
    return new Quantity(this.nanos, format);
  }

  /** The canonical text the API server would store for this quantity. */
  toString(): string {
    const negative = this.nanos < 0n;
    const abs = negative ? -this.nanos : this.nanos;
    const sign = negative ? "-" : "";
    if (abs === 0n) return "0";
    if (this.format === "BinarySI" && abs % NANO === 0n) {
      const units = abs / NANO;
      if (units >= 1024n) {
        for (const [suffix, size] of BINARY) {
          if (units % size === 0n) return `${sign}${units / size}${suffix}`;
        }
        return `${sign}${units}`;
      }
    }
    for (const [suffix, exp] of DECIMAL) {
      const size = pow10(exp + 9);
      if (abs % size === 0n) return `${sign}${abs / size}${suffix}`;
    }
    return `${sign}${abs}n`; // unreachable: 1n divides everything
  }

  toJSON(): string {
    return this.toString();
  }
}

function numberText(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  // Avoid exponent notation surprises such as 1e21 by printing plain digits when possible.
  return Number.isInteger(n) && Math.abs(n) < 1e21 ? n.toFixed(0) : String(n);
}

/** True when the text (or number) is a valid Kubernetes quantity. */
export function isQuantity(input: string | number): boolean {
  return Quantity.tryParse(input) !== undefined;
}

/** Canonical text for a quantity given as text or number: `2048Mi` becomes `2Gi`. */
export function canonicalQuantity(input: string | number): string {
  return Quantity.parse(input).toString();
}
