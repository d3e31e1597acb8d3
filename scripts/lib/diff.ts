/**
 * A reviewer's diff between two renders of one stack: objects added, removed and changed, the
 * changed fields, and every change that makes Kubernetes or Pulumi replace an object.
 */

import type { Manifest } from "../../components/context";
import type { ServiceCard } from "./service-cards";
import { canonical, isObject, networkPolicyTraffic, setDiff } from "./network-traffic";
import { howToAvoid } from "./safe-changes";
import {
  capacityDelta,
  formatCapacityDeltaMarkdown,
  formatCapacityDeltaText,
  type CapacityFigures,
} from "../../platform/capacity/figures";

/** A Kubernetes object as plain data. */
export type Obj = Manifest;

export interface Render {
  /** Objects by `Kind/namespace/name`. */
  readonly objects: ReadonlyMap<string, Obj>;
  /** Pulumi identity (type chain and logical name) by object key. */
  readonly resources: Readonly<Record<string, string>>;
  /** The capacity plan's figures (capacity.json), when the render has them. */
  readonly capacity?: CapacityFigures;
}

export interface FieldChange {
  /** Dotted path; list items with a `name` are addressed by it: `containers[api].image`. */
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
  /**
   * An item added to or removed from a list whose items have no name (NetworkPolicy rules,
   * tolerations, ...), as it reads: `ingress from shop/worker on 6379/TCP`, or the item itself.
   */
  readonly item?: { readonly op: "+" | "-"; readonly text: string };
}

export interface ObjectChange {
  readonly key: string;
  readonly kind: string;
  readonly change: "added" | "removed" | "changed";
  readonly fields: readonly FieldChange[];
  /** Why this change replaces the object (delete + create), if it does. */
  readonly replace: readonly string[];
  /**
   * A Job whose pod template changed is replaced too, but that is how it runs again (kind job):
   * reported as a re-run, not as a replacement, and not failing `--fail-on-replace`.
   */
  readonly rerun?: boolean;
}

/**
 * Fields Kubernetes refuses to update in place; the Pulumi provider replaces the object instead.
 * Paths are prefixes of changed field paths.
 */
const IMMUTABLE: Readonly<Record<string, readonly string[]>> = {
  Deployment: ["spec.selector"],
  ReplicaSet: ["spec.selector"],
  DaemonSet: ["spec.selector"],
  StatefulSet: [
    "spec.selector",
    "spec.volumeClaimTemplates",
    "spec.serviceName",
    "spec.podManagementPolicy",
  ],
  Job: ["spec.selector", "spec.template", "spec.completionMode"],
  Service: ["spec.clusterIP", "spec.clusterIPs", "spec.ipFamilies"],
  PersistentVolumeClaim: [
    "spec.accessModes",
    "spec.storageClassName",
    "spec.volumeName",
    "spec.selector",
  ],
  StorageClass: ["provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"],
  PriorityClass: ["value", "preemptionPolicy"],
};

/** Fields worth calling out first in a review. */
const HEADLINE = [
  /\.image$/,
  /^spec\.replicas$/,
  /\.resources\./,
  /^spec\.(minReplicas|maxReplicas)$/,
  /^spec\.(ingress|egress|policyTypes)/,
  /^spec\.hard\./,
];

/** The name a list item is known by: `name` (containers, ports, volumes) or `metadata.name` (claim templates). */
function itemName(x: unknown): string | undefined {
  if (!isObject(x)) return undefined;
  if (typeof x.name === "string") return x.name;
  const meta = x.metadata;
  return isObject(meta) && typeof meta.name === "string" ? meta.name : undefined;
}

function named(list: unknown[]): boolean {
  const names = list.map(itemName);
  return (
    list.length > 0 && names.every((n) => n !== undefined) && new Set(names).size === list.length
  );
}

/**
 * Field-level differences between two values. Lists of named items compare by name; other
 * lists of objects compare as sets of items (what was added, what was removed), so a new rule
 * among ten reads as one added item; lists of scalars (args, policyTypes) as a whole.
 */
export function diffFields(before: unknown, after: unknown, path = ""): FieldChange[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffFields(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(before) && Array.isArray(after) && named(before) && named(after)) {
    const byName = (l: unknown[]) => new Map(l.map((x) => [itemName(x)!, x]));
    const b = byName(before);
    const a = byName(after);
    const names = [...new Set([...b.keys(), ...a.keys()])];
    return names.flatMap((n) => diffFields(b.get(n), a.get(n), `${path}[${n}]`));
  }
  if (Array.isArray(before) && Array.isArray(after) && [...before, ...after].every(isObject)) {
    const items = setDiff(before.map(canonical), after.map(canonical));
    // Only the order changed: the list as a whole.
    if (items.length === 0) return [{ path, before, after }];
    return items.map((it) => ({
      path,
      before: it.op === "-" ? JSON.parse(it.text) : undefined,
      after: it.op === "+" ? JSON.parse(it.text) : undefined,
      item: it,
    }));
  }
  return [{ path, before, after }];
}

/**
 * A NetworkPolicy's field changes, its rules as allowed traffic added and removed; rules
 * rewritten without changing the traffic are shown as they are.
 */
function policyFields(before: Obj, after: Obj): FieldChange[] {
  const fields = diffFields(before, after);
  const isRule = (f: FieldChange) => /^spec\.(ingress|egress)(\[|$)/.test(f.path);
  const traffic = setDiff(networkPolicyTraffic(before), networkPolicyTraffic(after));
  if (traffic.length === 0) return fields;
  return [
    ...fields.filter((f) => !isRule(f)),
    ...traffic.map((item) => ({
      path: `spec.${item.text.startsWith("ingress") ? "ingress" : "egress"}`,
      before: undefined,
      after: undefined,
      item,
    })),
  ];
}

export function diffRenders(base: Render, head: Render): ObjectChange[] {
  const keys = [...new Set([...base.objects.keys(), ...head.objects.keys()])].sort();
  const changes: ObjectChange[] = [];
  const removed = keys.filter((k) => !head.objects.has(k));
  const added = keys.filter((k) => !base.objects.has(k));
  for (const key of keys) {
    const before = base.objects.get(key);
    const after = head.objects.get(key);
    if (before && after) {
      const fields =
        after.kind === "NetworkPolicy" ? policyFields(before, after) : diffFields(before, after);
      const replace: string[] = [];
      let rerun = false;
      for (const prefix of IMMUTABLE[after.kind] ?? []) {
        const hit = fields.find(
          (f) =>
            f.path === prefix || f.path.startsWith(`${prefix}.`) || f.path.startsWith(`${prefix}[`),
        );
        if (hit && after.kind === "Job" && prefix === "spec.template") rerun = true;
        else if (hit) replace.push(`${prefix} is immutable`);
      }
      if (
        base.resources[key] &&
        head.resources[key] &&
        base.resources[key] !== head.resources[key]
      ) {
        replace.push(
          `Pulumi identity changed (${base.resources[key]} → ${head.resources[key]}); add an alias to keep it`,
        );
      }
      const immutableFlag = (o: Obj) => (o as { immutable?: boolean }).immutable === true;
      if (
        (after.kind === "ConfigMap" || after.kind === "Secret") &&
        immutableFlag(before) &&
        fields.some((f) => /^(data|stringData|binaryData)/.test(f.path))
      ) {
        replace.push("immutable data changed");
      }
      // A changed identity alone (e.g. an ancestor component retyped) still replaces the object.
      if (fields.length > 0 || replace.length > 0)
        changes.push({
          key,
          kind: after.kind,
          change: "changed",
          fields,
          replace,
          ...(rerun && replace.length === 0 ? { rerun } : {}),
        });
    } else if (after) {
      // A same-kind object removed in the same change under another name is a rename: a replacement.
      const owner = after.metadata.labels?.["app.kubernetes.io/name"];
      const renamedFrom = removed.find((r) => {
        const o = base.objects.get(r)!;
        return (
          o.kind === after.kind &&
          owner !== undefined &&
          o.metadata.labels?.["app.kubernetes.io/name"] === owner
        );
      });
      changes.push({
        key,
        kind: after.kind,
        change: "added",
        fields: [],
        replace: renamedFrom ? [`renamed from ${renamedFrom}`] : [],
      });
    } else if (before) {
      const owner = before.metadata.labels?.["app.kubernetes.io/name"];
      const renamedTo = added.find((a) => {
        const o = head.objects.get(a)!;
        return (
          o.kind === before.kind &&
          owner !== undefined &&
          o.metadata.labels?.["app.kubernetes.io/name"] === owner
        );
      });
      changes.push({
        key,
        kind: before.kind,
        change: "removed",
        fields: [],
        replace: renamedTo ? [`renamed to ${renamedTo}`] : [],
      });
    }
  }
  return changes;
}

/** Longest value shown on one line; longer ones are summarised, saying how much is left out. */
const SHOW_LIMIT = 400;

function show(v: unknown): string {
  if (v === undefined) return "(unset)";
  const s = typeof v === "string" ? v : canonical(v);
  if (s.length <= SHOW_LIMIT && !s.includes("\n")) return s;
  const lines = s.split("\n");
  if (lines.length > 1)
    return `${lines[0].slice(0, 120)}… (${lines.length} lines, ${s.length} characters)`;
  return `${s.slice(0, SHOW_LIMIT)}… (+${s.length - SHOW_LIMIT} more characters)`;
}

/**
 * How a field change reads, one entry per line: a list item added or removed; a multi-line
 * text as the lines that changed (`- old`, `+ new`, then `(+N more changed lines)`); else
 * `before → after`.
 */
export function describeChange(f: FieldChange, maxLines = 12): string[] {
  if (f.item) return [`${f.item.op} ${f.item.text}`];
  if (
    typeof f.before === "string" &&
    typeof f.after === "string" &&
    (f.before.includes("\n") || f.after.includes("\n"))
  ) {
    const changed = setDiff(f.before.split("\n"), f.after.split("\n"));
    const shown = changed.slice(0, maxLines).map((l) => `${l.op} ${l.text}`);
    const more = changed.length - shown.length;
    return [
      `${f.path}: ${changed.length} line${changed.length === 1 ? "" : "s"} changed`,
      ...shown.map((l) => `  ${l}`),
      ...(more > 0 ? [`  (+${more} more changed line${more === 1 ? "" : "s"})`] : []),
    ];
  }
  return [`${f.path}: ${show(f.before)} → ${show(f.after)}`];
}

function headlineFirst(fields: readonly FieldChange[]): FieldChange[] {
  const score = (f: FieldChange) => (HEADLINE.some((re) => re.test(f.path)) ? 0 : 1);
  return [...fields].sort((a, b) => score(a) - score(b));
}

export interface DiffReportOptions {
  readonly stack: string;
  readonly base: string;
  /** Replacements in prod are outages: flagged louder. */
  readonly tier: string;
  /** What the change does to capacity (capacityDelta of the two renders' figures). */
  readonly capacity?: ReturnType<typeof capacityDelta>;
  /** A card per service added, removed or changed (./service-cards). */
  readonly cards?: readonly ServiceCard[];
  /** Exposure the change adds (public hosts, LoadBalancers, NetworkPolicies opened). */
  readonly exposure?: readonly string[];
  /** A Mermaid graph of the traffic around the change (./traffic-graph), for Markdown. */
  readonly graph?: string;
}

const CARD_MARK = { added: "+", removed: "-", changed: "~" } as const;
/** Service cards in one PR comment at most (the objects below still list everything). */
const MARKDOWN_CARDS = 30;
const CARD_ICON = { added: "➕", removed: "➖", changed: "✏️" } as const;

/**
 * The capacity change between two renders; undefined when either has no figures (a base from
 * before capacity.json existed: the head's capacity.md shows the plan).
 */
export function renderCapacityDelta(
  base: Render,
  head: Render,
): ReturnType<typeof capacityDelta> | undefined {
  return base.capacity && head.capacity ? capacityDelta(base.capacity, head.capacity) : undefined;
}

function counts(changes: readonly ObjectChange[]) {
  const n = (c: ObjectChange["change"]) => changes.filter((x) => x.change === c).length;
  return {
    added: n("added"),
    removed: n("removed"),
    changed: n("changed"),
    replaced: changes.filter((c) => c.replace.length > 0).length,
  };
}

export function formatDiffText(changes: readonly ObjectChange[], opts: DiffReportOptions): string {
  const c = counts(changes);
  const lines = [
    `stack ${opts.stack} vs ${opts.base}: ${c.added} added, ${c.removed} removed, ${c.changed} changed, ${c.replaced} replaced`,
  ];
  if (opts.exposure?.length) lines.push("exposure added:", ...opts.exposure.map((e) => `  ! ${e}`));
  if (opts.capacity) lines.push(...formatCapacityDeltaText(opts.capacity));
  if (opts.cards?.length) {
    lines.push("services:");
    for (const card of opts.cards)
      lines.push(
        `  ${CARD_MARK[card.change]} ${card.service} (${card.change})`,
        ...card.lines.map((l) => `      ${l}`),
      );
    lines.push("objects:");
  }
  if (changes.length === 0) lines.push("no changes");
  for (const ch of changes) {
    const mark = ch.change === "added" ? "+" : ch.change === "removed" ? "-" : "~";
    lines.push(`${mark} ${ch.key}`);
    for (const r of ch.replace) {
      lines.push(
        `    ${opts.tier === "prod" ? "!! REPLACE IN PROD (outage)" : "!! replace"}: ${r}`,
      );
      const avoid = howToAvoid(ch.kind, r);
      if (avoid) lines.push(`       ${avoid}`);
    }
    if (ch.rerun)
      lines.push("    re-runs: the pod template changed, so the Job is replaced and runs again");
    for (const f of headlineFirst(ch.fields))
      lines.push(...describeChange(f).map((l) => `    ${l}`));
  }
  return lines.join("\n");
}

/** GitHub refuses comments over 65,536 characters; stay well under. */
export const MARKDOWN_LIMIT = 60_000;

/**
 * Markdown for a PR comment, never longer than `limit`: replacements always in full, then field
 * changes object by object; when the budget runs out the rest is summarised by kind, never cut
 * mid-object.
 */
export function formatDiffMarkdown(
  changes: readonly ObjectChange[],
  opts: DiffReportOptions,
  limit = MARKDOWN_LIMIT,
): string {
  const c = counts(changes);
  const head = [
    `### \`${opts.stack}\`: ${c.added} added, ${c.removed} removed, ${c.changed} changed${c.replaced ? `, **${c.replaced} replaced**` : ""}`,
    `<sub>compared with \`${opts.base}\`</sub>`,
    "",
  ];
  if (opts.exposure?.length)
    head.push(
      "> [!IMPORTANT]",
      "> This change exposes more:",
      ...opts.exposure.map((e) => `> - ${e}`),
      "",
    );
  const capacity = opts.capacity ? formatCapacityDeltaMarkdown(opts.capacity) : "";
  if (capacity) head.push(capacity, "");
  if (opts.cards?.length) {
    head.push("#### Services", "");
    const shown = opts.cards.slice(0, MARKDOWN_CARDS);
    for (const card of shown)
      head.push(
        `**${CARD_ICON[card.change]} \`${card.service}\`** (${card.change})`,
        "",
        ...card.lines.map((l) => `- ${l.replace(/\|/g, "\\|")}`),
        "",
      );
    if (opts.cards.length > shown.length)
      head.push(
        `…and ${opts.cards.length - shown.length} more services (\`npm run diff\` shows every card).`,
        "",
      );
    if (opts.graph) head.push("#### Traffic", "", opts.graph, "");
    head.push("#### Objects", "");
  }
  if (changes.length === 0) return [...head, "No changes."].join("\n");
  const replaced = changes.filter((x) => x.replace.length > 0);
  const sections: string[] = [];
  if (replaced.length > 0) {
    const warn =
      opts.tier === "prod"
        ? "> [!CAUTION]\n> These changes **replace** objects in **prod** (delete, then create): expect an outage unless handled."
        : "> [!WARNING]\n> These changes replace objects (delete, then create).";
    sections.push(
      [
        warn,
        "",
        ...replaced.flatMap((r) => [
          `- \`${r.key}\`: ${r.replace.join("; ")}`,
          ...r.replace.flatMap((reason) => {
            const avoid = howToAvoid(r.kind, reason);
            return avoid ? [`  - ${avoid}`] : [];
          }),
        ]),
        "",
      ].join("\n"),
    );
  }
  const reruns = changes.filter((x) => x.rerun);
  if (reruns.length > 0) {
    sections.push(
      [
        "> [!NOTE]",
        "> These Jobs run again: their pod template changed, so each is replaced and `pulumi up` waits for it.",
        "",
        ...reruns.map((r) => `- \`${r.key}\``),
        "",
      ].join("\n"),
    );
  }
  const cell = (v: unknown) => (v === undefined ? "—" : `\`${show(v).replace(/\|/g, "\\|")}\``);
  const blocks = changes.map((ch) => {
    const icon = ch.change === "added" ? "➕" : ch.change === "removed" ? "➖" : "✏️";
    const fields = headlineFirst(ch.fields);
    const multiline = fields.filter((f) => !f.item && describeChange(f).length > 1);
    const rows = fields
      .filter((f) => !multiline.includes(f))
      .map((f) =>
        f.item
          ? `| \`${f.path}\` | ${f.item.op === "-" ? cell(f.item.text) : "—"} | ${f.item.op === "+" ? cell(f.item.text) : "—"} |`
          : `| \`${f.path}\` | ${cell(f.before)} | ${cell(f.after)} |`,
      );
    const texts = multiline.flatMap((f) => {
      const [title, ...lines] = describeChange(f);
      return [`\`${title}\``, "", "```diff", ...lines.map((l) => l.slice(2)), "```", ""];
    });
    return fields.length
      ? [
          `<details><summary>${icon} <code>${ch.key}</code> (${ch.fields.length} change${ch.fields.length === 1 ? "" : "s"})</summary>`,
          "",
          ...(rows.length ? ["| field | before | after |", "|---|---|---|", ...rows, ""] : []),
          ...texts,
          "</details>",
          "",
        ].join("\n")
      : `${icon} \`${ch.key}\`\n`;
  });
  let body = [...head, ...sections].join("\n");
  let i = 0;
  for (; i < blocks.length; i++) {
    const restNote = summariseRest(changes.slice(i + 1));
    if (body.length + blocks[i].length + restNote.length + 2 > limit) break;
    body += `\n${blocks[i]}`;
  }
  if (i < blocks.length) body += `\n${summariseRest(changes.slice(i))}`;
  return body.length <= limit ? body : `${[...head].join("\n")}\n${summariseRest(changes)}`;
}

function summariseRest(rest: readonly ObjectChange[]): string {
  if (rest.length === 0) return "";
  const byKind = new Map<string, number>();
  for (const r of rest)
    byKind.set(`${r.change} ${r.kind}`, (byKind.get(`${r.change} ${r.kind}`) ?? 0) + 1);
  const parts = [...byKind.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${n} ${k}`);
  return `…and ${rest.length} more object${rest.length === 1 ? "" : "s"} not shown in full: ${parts.join(", ")}. Run \`npm run diff\` locally for everything.`;
}
