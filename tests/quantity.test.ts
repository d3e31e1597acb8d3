/**
 * Quantities: parsing every suffix, rejecting junk, printing the API server's canonical form,
 * rounding and arithmetic; then properties over generated spellings (fast-check).
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { canonicalQuantity, isQuantity, Quantity } from "../components/quantity";

const NANO = 1_000_000_000n;
const nanos = (text: string | number) => Quantity.parse(text).nanos;
const show = (text: string | number) => Quantity.parse(text).toString();

describe("parsing", () => {
  test.each([
    ["1n", 1n],
    ["1u", 1_000n],
    ["1m", 1_000_000n],
    ["1", NANO],
    ["1k", 10n ** 3n * NANO],
    ["1M", 10n ** 6n * NANO],
    ["1G", 10n ** 9n * NANO],
    ["1T", 10n ** 12n * NANO],
    ["1P", 10n ** 15n * NANO],
    ["1E", 10n ** 18n * NANO],
    ["1Ki", 2n ** 10n * NANO],
    ["1Mi", 2n ** 20n * NANO],
    ["1Gi", 2n ** 30n * NANO],
    ["1Ti", 2n ** 40n * NANO],
    ["1Pi", 2n ** 50n * NANO],
    ["1Ei", 2n ** 60n * NANO],
  ])("suffix of %s", (text, expected) => {
    expect(nanos(text)).toBe(expected);
    expect(nanos(`7${text.slice(1)}`)).toBe(7n * expected);
  });

  test.each([
    ["1e3", 1000n * NANO],
    ["1E3", 1000n * NANO],
    ["1e+3", 1000n * NANO],
    ["2e0", 2n * NANO],
    ["5e-3", 5_000_000n],
    ["1E-3", 1_000_000n],
    ["1.5e3", 1500n * NANO],
  ])("decimal exponent %s", (text, expected) => {
    expect(nanos(text)).toBe(expected);
    expect(Quantity.parse(text).format).toBe("DecimalSI");
  });

  test.each([
    ["1.5Gi", 3n * 2n ** 29n * NANO],
    ["0.5", 500_000_000n],
    [".5", 500_000_000n],
    ["1.", NANO],
    ["2.25k", 2250n * NANO],
    ["0.5Ki", 512n * NANO],
    ["+3", 3n * NANO],
    ["-1.5", -1_500_000_000n],
  ])("fractions and signs: %s", (text, expected) => {
    expect(nanos(text)).toBe(expected);
  });

  test("numbers are parsed like their decimal text", () => {
    expect(nanos(2)).toBe(2n * NANO);
    expect(nanos(0.25)).toBe(250_000_000n);
    expect(nanos(1e21)).toBe(10n ** 21n * NANO);
  });

  test("binary suffixes give BinarySI, everything else DecimalSI", () => {
    expect(Quantity.parse("512Mi").format).toBe("BinarySI");
    expect(Quantity.parse("512M").format).toBe("DecimalSI");
    expect(Quantity.parse("512").format).toBe("DecimalSI");
  });

  test("precision below a nano-unit rounds up, away from zero", () => {
    expect(nanos("0.1n")).toBe(1n);
    expect(nanos("1.0000000001")).toBe(NANO + 1n);
    expect(nanos("5e-10")).toBe(1n);
    expect(nanos("-0.1n")).toBe(-1n);
  });

  test.each([
    "10 cores",
    "",
    " ",
    "1.2.3",
    "Mi",
    "1mi",
    "1K",
    "1KI",
    "1 Gi",
    "e3",
    "1e",
    "10e",
    "--1",
    "0x10",
    "abc",
    "1.5.Gi",
    "Gi1",
  ])("rejects %j", (text) => {
    expect(isQuantity(text)).toBe(false);
    expect(Quantity.tryParse(text)).toBeUndefined();
    expect(() => Quantity.parse(text)).toThrowError(
      `${JSON.stringify(text)} is not a Kubernetes quantity (examples: 500m, 2, 512Mi, 1Gi)`,
    );
  });

  test("surrounding whitespace is trimmed, as the API server's JSON decoding does", () => {
    expect(nanos(" 1Mi ")).toBe(2n ** 20n * NANO);
  });

  test("rejects non-finite numbers, naming the number rather than JSON's null", () => {
    expect(isQuantity(Number.NaN)).toBe(false);
    expect(isQuantity(Number.POSITIVE_INFINITY)).toBe(false);
    expect(() => Quantity.parse(Number.POSITIVE_INFINITY)).toThrowError(
      "Infinity is not a Kubernetes quantity (examples: 500m, 2, 512Mi, 1Gi)",
    );
  });
});

describe("canonical form, as the API server stores it", () => {
  test.each([
    ["2048Mi", "2Gi"],
    ["1000m", "1"],
    ["0.5", "500m"],
    ["1.5Gi", "1536Mi"],
    ["512Mi", "512Mi"],
    ["1024", "1024"],
    ["1000", "1k"],
    ["1e3", "1k"], // the server stores "1k" as sent, so no diff
    ["1500m", "1500m"],
    ["1.5k", "1500"],
    ["1024Ki", "1Mi"],
    ["1000Ki", "1000Ki"],
    ["1023Ki", "1023Ki"],
    ["1048576Ki", "1Gi"],
    ["1024Ei", "1024Ei"],
    ["0.5Ki", "512"],
    ["1.5Ki", "1536"],
    ["0.001Ki", "1024m"],
    ["2000000000n", "2"],
    ["1000000u", "1"],
    ["1e18", "1E"],
    ["1e-9", "1n"],
    ["0", "0"],
    ["0Gi", "0"],
    ["-0", "0"],
    ["-2048Mi", "-2Gi"],
    ["-0.5", "-500m"],
  ])("%s prints as %s", (text, expected) => {
    expect(show(text)).toBe(expected);
    expect(canonicalQuantity(text)).toBe(expected);
    expect(JSON.stringify({ q: Quantity.parse(text) })).toBe(`{"q":"${expected}"}`);
  });

  test("a whole BinarySI amount of at least 1Ki that no binary suffix divides prints as plain digits", () => {
    // apimachinery CanonicalizeBytes: BinarySI, >= 1024 and whole, so base-1024 exponent 0 -> "2000",
    // never the decimal "2k".
    expect(show("1.953125Ki")).toBe("2000");
    expect(show("2.9296875Ki")).toBe("3000");
  });

  test("numbers canonicalise too", () => {
    expect(canonicalQuantity(0.5)).toBe("500m");
    expect(canonicalQuantity(2)).toBe("2");
    expect(canonicalQuantity(4000)).toBe("4k");
  });

  test("withFormat prints the same amount in the other family", () => {
    expect(Quantity.parse("1Gi").withFormat("DecimalSI").toString()).toBe("1073741824");
    expect(Quantity.parse("500m").withFormat("BinarySI").toString()).toBe("500m");
    expect(Quantity.parse("2048").withFormat("BinarySI").toString()).toBe("2Ki");
  });
});

describe("rounded values", () => {
  test.each([
    ["1n", 1, 1],
    ["1m", 1, 1],
    ["1500m", 1500, 2],
    ["1.0001m", 2, 1],
    ["2", 2000, 2],
    ["1Ki", 1_024_000, 1024],
    ["-1.5m", -1, 0],
    ["-1.5", -1500, -1],
  ])("%s: milliValue %d, value %d (rounded up)", (text, milli, whole) => {
    expect(Quantity.parse(text).milliValue()).toBe(milli);
    expect(Quantity.parse(text).value()).toBe(whole);
  });

  test("toNumber is the plain float", () => {
    expect(Quantity.parse("1500m").toNumber()).toBe(1.5);
    expect(Quantity.parse("1Ki").toNumber()).toBe(1024);
  });
});

describe("construction and arithmetic", () => {
  test("of, fromMillis, ZERO", () => {
    expect(Quantity.of(3).toString()).toBe("3");
    expect(Quantity.of(2048, "BinarySI").toString()).toBe("2Ki");
    expect(Quantity.of(5n).nanos).toBe(5n * NANO);
    expect(Quantity.fromMillis(1500).toString()).toBe("1500m");
    expect(Quantity.fromMillis(2000n).toString()).toBe("2");
    expect(Quantity.ZERO.toString()).toBe("0");
    expect(Quantity.ZERO.isZero()).toBe(true);
    expect(Quantity.parse("1n").isZero()).toBe(false);
  });

  test("add keeps the receiver's format unless the receiver is zero", () => {
    expect(Quantity.parse("1Gi").add(Quantity.parse("1Gi")).toString()).toBe("2Gi");
    expect(Quantity.parse("1").add(Quantity.parse("1Ki")).toString()).toBe("1025");
    expect(Quantity.parse("1Ki").add(Quantity.parse("1k")).toString()).toBe("2024");
    expect(Quantity.ZERO.add(Quantity.parse("512Mi")).toString()).toBe("512Mi");
    expect(Quantity.parse("100m").add(Quantity.parse("900m")).toString()).toBe("1");
  });

  test("sub may go negative", () => {
    expect(Quantity.parse("1Gi").sub(Quantity.parse("512Mi")).toString()).toBe("512Mi");
    expect(Quantity.parse("1Gi").sub(Quantity.parse("2Gi")).toString()).toBe("-1Gi");
    expect(Quantity.parse("250m").sub(Quantity.parse("250m")).isZero()).toBe(true);
  });

  test("times multiplies by whole numbers only", () => {
    expect(Quantity.parse("256Mi").times(4).toString()).toBe("1Gi");
    expect(Quantity.parse("250m").times(4n).toString()).toBe("1");
    expect(Quantity.parse("1").times(0).isZero()).toBe(true);
    expect(() => Quantity.parse("1").times(1.5)).toThrowError(
      "Quantity.times expects a whole number, got 1.5",
    );
  });

  test("cmp and equals compare amounts, not spellings", () => {
    expect(Quantity.parse("1Gi").cmp(Quantity.parse("1024Mi"))).toBe(0);
    expect(Quantity.parse("1Gi").equals(Quantity.parse("1073741824"))).toBe(true);
    expect(Quantity.parse("1G").equals(Quantity.parse("1Gi"))).toBe(false);
    expect(Quantity.parse("1G").cmp(Quantity.parse("1Gi"))).toBe(-1);
    expect(Quantity.parse("1001m").cmp(Quantity.parse("1"))).toBe(1);
    expect(Quantity.parse("-1").cmp(Quantity.parse("1n"))).toBe(-1);
  });

  test("min and max return one of their arguments, the first on a tie", () => {
    const a = Quantity.parse("1Gi");
    const b = Quantity.parse("1073741824");
    const c = Quantity.parse("2G");
    expect(Quantity.max(a, c)).toBe(c);
    expect(Quantity.max(c, a)).toBe(c);
    expect(Quantity.min(a, c)).toBe(a);
    expect(Quantity.min(c, a)).toBe(a);
    expect(Quantity.max(a, b)).toBe(a);
    expect(Quantity.min(b, a)).toBe(b);
  });

  test("sum adds any iterable; an empty sum is 0", () => {
    expect(Quantity.sum([]).toString()).toBe("0");
    expect(Quantity.sum(["512Mi", "256Mi", "256Mi"].map((t) => Quantity.parse(t))).toString()).toBe(
      "1Gi",
    );
    expect(Quantity.sum(new Set([Quantity.parse("100m"), Quantity.parse("1.9")])).toString()).toBe(
      "2",
    );
    // 0.1 added ten times is exactly 1: no floating-point drift.
    expect(Quantity.sum(Array.from({ length: 10 }, () => Quantity.parse("0.1"))).toString()).toBe(
      "1",
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const RUNS = { numRuns: 200 };

const DECIMAL_EXP: Record<string, number> = {
  n: -9,
  u: -6,
  m: -3,
  "": 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_POW: Record<string, bigint> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };
const SUFFIXES = [...Object.keys(DECIMAL_EXP), ...Object.keys(BINARY_POW)];

/** A quantity's size in nano-units, computed independently of the implementation. */
function unitNanos(suffix: string): bigint {
  if (suffix in BINARY_POW) return (1n << BINARY_POW[suffix]) * NANO;
  if (suffix.startsWith("e")) return 10n ** BigInt(Number(suffix.slice(1)) + 9);
  return 10n ** BigInt(DECIMAL_EXP[suffix] + 9);
}

interface Spelling {
  readonly negative: boolean;
  readonly whole: bigint;
  readonly frac: string;
  readonly suffix: string;
}

function textOf(s: Spelling): string {
  return `${s.negative ? "-" : ""}${s.whole}${s.frac ? `.${s.frac}` : ""}${s.suffix}`;
}

function expectedNanos(s: Spelling): bigint {
  const scale = 10n ** BigInt(s.frac.length);
  const numerator = (s.whole * scale + BigInt(s.frac || "0")) * unitNanos(s.suffix);
  const magnitude = (numerator + scale - 1n) / scale; // rounded up
  return s.negative ? -magnitude : magnitude;
}

const spelling: fc.Arbitrary<Spelling> = fc.record({
  negative: fc.boolean(),
  whole: fc.bigInt({ min: 0n, max: 10n ** 12n }),
  frac: fc.oneof(fc.constant(""), fc.stringMatching(/^\d{1,6}$/)),
  suffix: fc.oneof(
    fc.constantFrom(...SUFFIXES),
    fc.integer({ min: -9, max: 15 }).map((e) => `e${e}`),
  ),
});
const quantity = spelling.map((s) => Quantity.parse(textOf(s)));
const nonNegative = fc
  .tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.constantFrom(...SUFFIXES))
  .map(([whole, suffix]) => Quantity.parse(`${whole}${suffix}`));

describe("properties", () => {
  test("parsing matches an independent computation of the amount", () => {
    fc.assert(
      fc.property(spelling, (s) => {
        expect(Quantity.parse(textOf(s)).nanos).toBe(expectedNanos(s));
      }),
      RUNS,
    );
  });

  test("parse(toString(q)) equals q, and the canonical form is a fixed point", () => {
    fc.assert(
      fc.property(quantity, (q) => {
        const text = q.toString();
        const again = Quantity.parse(text);
        expect(again.equals(q)).toBe(true);
        expect(again.toString()).toBe(text);
        expect(canonicalQuantity(text)).toBe(text);
      }),
      RUNS,
    );
  });

  test("the canonical form is an integer mantissa with a known suffix, no fraction or leading zeros", () => {
    fc.assert(
      fc.property(quantity, (q) => {
        expect(q.toString()).toMatch(/^(0|-?[1-9]\d*(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?)$/);
      }),
      RUNS,
    );
  });

  test("decimal spellings print with the largest power-of-1000 suffix that keeps the mantissa whole", () => {
    const decimal = spelling.filter((s) => !(s.suffix in BINARY_POW));
    fc.assert(
      fc.property(decimal, (s) => {
        const printed = Quantity.parse(textOf(s)).toString();
        const m = /^(-?\d+)(\D*)$/.exec(printed)!;
        const mantissa = BigInt(m[1]);
        expect(m[2] in DECIMAL_EXP).toBe(true);
        expect(mantissa * unitNanos(m[2])).toBe(expectedNanos(s));
        if (mantissa !== 0n && m[2] !== "E") expect(mantissa % 1000n).not.toBe(0n);
      }),
      RUNS,
    );
  });

  test("equal amounts spelled differently print identically", () => {
    const n = fc.bigInt({ min: 1n, max: 10n ** 6n });
    fc.assert(
      fc.property(n, (k) => {
        expect(show(`${k * 1024n}Ki`)).toBe(show(`${k}Mi`));
        expect(show(`${k * 1024n * 1024n}Mi`)).toBe(show(`${k}Ti`));
        expect(show(`${k * 1024n}Gi`)).toBe(show(`${k}Ti`));
        expect(show(`${k * 1000n}m`)).toBe(show(`${k}`));
        expect(show(`${k * 1000n}`)).toBe(show(`${k}k`));
        expect(show(`${k}e3`)).toBe(show(`${k}k`));
        expect(show(`${k}000000u`)).toBe(show(`${k}`));
        expect(show(`${k}.000`)).toBe(show(`${k}`));
      }),
      RUNS,
    );
  });

  test("addition is commutative and associative, with ZERO as identity", () => {
    fc.assert(
      fc.property(quantity, quantity, quantity, (a, b, c) => {
        expect(a.add(b).nanos).toBe(b.add(a).nanos);
        expect(a.add(b).add(c).nanos).toBe(a.add(b.add(c)).nanos);
        expect(a.add(Quantity.ZERO).toString()).toBe(a.toString());
        expect(Quantity.ZERO.add(a).toString()).toBe(a.toString());
        expect(a.add(b).sub(b).equals(a)).toBe(true);
      }),
      RUNS,
    );
  });

  test("addition is monotone", () => {
    fc.assert(
      fc.property(quantity, quantity, nonNegative, (a, b, c) => {
        expect(a.add(c).cmp(a)).toBeGreaterThanOrEqual(0);
        if (a.cmp(b) <= 0) expect(a.add(c).cmp(b.add(c))).toBeLessThanOrEqual(0);
      }),
      RUNS,
    );
  });

  test("sum and times agree with repeated addition", () => {
    fc.assert(
      fc.property(quantity, fc.integer({ min: 0, max: 20 }), (q, n) => {
        const repeated = Array.from({ length: n }, () => q);
        expect(Quantity.sum(repeated).nanos).toBe(q.times(n).nanos);
      }),
      RUNS,
    );
  });

  test("cmp, equals, min and max are consistent with the nano values", () => {
    fc.assert(
      fc.property(quantity, quantity, (a, b) => {
        const expected = a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
        expect(a.cmp(b)).toBe(expected);
        expect(b.cmp(a)).toBe(-expected);
        expect(a.equals(b)).toBe(expected === 0);
        expect(Quantity.max(a, b).nanos).toBe(a.nanos > b.nanos ? a.nanos : b.nanos);
        expect(Quantity.min(a, b).nanos).toBe(a.nanos < b.nanos ? a.nanos : b.nanos);
      }),
      RUNS,
    );
  });
});
