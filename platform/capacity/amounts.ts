/**
 * Amounts in the planner's units (millicores, bytes, counts): parsing, canonical printing, and
 * the readable rounding of the figures a suggested fix gives.
 */
import { Quantity } from "../../components/quantity";

export type Unit = "cpu" | "bytes" | "count";
const MI = 2 ** 20;
const GI = 2 ** 30;

export function parseAmount(unit: Unit, value: string | number): number {
  const q = Quantity.parse(value);
  return unit === "cpu" ? q.milliValue() : q.value();
}

export function formatAmount(unit: Unit, value: number): string {
  if (unit === "cpu") return Quantity.fromMillis(value).toString();
  if (unit === "bytes") return Quantity.of(value, "BinarySI").toString();
  return String(value);
}

/** Rounds up to a readable figure: cpu in 100m steps below 2 cores, then whole cores; bytes in 64Mi steps below 2Gi, then whole Gi. */
export function roundUpReadable(unit: Unit, value: number): number {
  if (value <= 0) return 0;
  if (unit === "cpu")
    return value < 2000 ? Math.ceil(value / 100) * 100 : Math.ceil(value / 1000) * 1000;
  if (unit === "bytes")
    return value < 2 * GI ? Math.ceil(value / (64 * MI)) * 64 * MI : Math.ceil(value / GI) * GI;
  return Math.ceil(value);
}
