/**
 * Promotion of releases between stages: copy the source's release (its commit, pinned in
 * `platform:release`) and each workload's image reference into the next stage's stack file
 * (`platform:overrides.services.<svc>.image`, digests for prod), after the target's gate; or put
 * back the release and references an earlier commit of a stack file recorded (rollback).
 *
 * Planning is pure: texts in (Pulumi.yaml, the stack files, a deployed stack's outputs, git
 * history, gate evidence), a plan out: the edited file text and what changed, or one refusal
 * message listing every problem. Stacks are read by ./stack-view exactly as the render and the
 * tests read them, and the edited file must pass `parsePlatformConfig` before a plan is ready.
 * The edit itself is ./stack-edit's (byte-preserving). Only `writeFileAtomic`, `readGitHistory`
 * and stack-view's `readProjectFiles` (with the application files, in the checkout or at a
 * commit) touch the project.
 */
import { execFileSync } from "node:child_process";
import { existsSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import {
  findStage,
  formatDuration,
  isDirty,
  isRunningRelease,
  promotionProblem,
  RELEASE_KEY,
  shortRelease,
  type SourceTree,
  type Stage,
  unknownStage,
} from "../../platform/config";
import type { Tier } from "../../components/schema";
import { gitShow } from "./git-tree";
import { StackFileError, stagesOf } from "./stack-files";
import { closest } from "../../components/suggest";
import { applyPromotion, EditError } from "./stack-edit";
import { unifiedDiff } from "./text-diff";
import { evaluateGate, type GateEvidence } from "./gate";
import {
  type ImageValue,
  type ProjectFiles,
  type StackView,
  stackFileName,
  readStack,
  isPlainObject,
  configProblems,
} from "./stack-view";

// ---------------------------------------------------------------------------------------------
// Types

/** The release pin a plan sets. */
export interface ReleaseChange {
  readonly before: string | undefined;
  readonly after: string;
  /** Where `after` came from: "dev's deployed outputs in out.json", "staging's pin", ... */
  readonly origin: string;
}

export interface ImageChange {
  readonly service: string;
  /** The stack's effective image before the change. */
  readonly before: ImageValue | undefined;
  /** Whether the stack file pinned `before` itself (otherwise it came from Pulumi.yaml). */
  readonly beforePinned: boolean;
  readonly after: string;
  /** Where `after` came from: "dev config", "dev's deployed outputs in out.json", "commit 1a2b3c4". */
  readonly origin: string;
}

export type Plan = PlanRefused | PlanReady;

export interface PlanRefused {
  readonly ok: false;
  /** What was refused and why, one problem a line, each with its fix. Nothing was changed. */
  readonly message: string;
}

export interface PlanReady {
  readonly ok: true;
  /** "promote dev → staging" or "rollback staging to 1a2b3c4 (...)". */
  readonly title: string;
  readonly stack: string;
  readonly file: string;
  /** Empty when the stack file already has these images: nothing to do. */
  readonly changes: readonly ImageChange[];
  /** The release pin it sets, when that changes. */
  readonly release?: ReleaseChange;
  /** The release the stack file pins after the plan, if any. */
  readonly pinnedRelease: string | undefined;
  /** The stack file before and after (equal when there is nothing to do). */
  readonly before: string;
  readonly after: string;
  /** Things that went through but deserve a look, e.g. a tag copied without a digest. */
  readonly warnings: readonly string[];
  /** Plain information, e.g. services not promoted because the target lacks them. */
  readonly notes: readonly string[];
}

export interface PromoteRequest {
  readonly from: string;
  readonly to: string;
  /** Services to promote. @default every service of the source that the target also runs */
  readonly only?: readonly string[];
  /**
   * Emergency override: allow skipping stages of the pipeline (e.g. dev straight to prod). The
   * plan then warns, naming what was skipped, and that warning goes into the pull request.
   * @default false
   */
  readonly allowSkip?: boolean;
  /**
   * The source stack's `pulumi stack output --json`, whose `images` and `release` are promoted:
   * what the source ran. Without them, the source's pinned release and configured images.
   */
  readonly outputs?: { readonly file: string; readonly json: unknown };
  /**
   * The commit checked out where promote runs (HEAD): the release of the first stage, which runs
   * main, when no outputs say what it ran.
   */
  readonly checkoutCommit?: string;
  /** What the source ran and how it is doing, for the target stage's gate (see ./gate). */
  readonly gate?: GateEvidence;
  /**
   * Emergency override: promote although the target's gate is not passed (or not checked). The
   * plan warns, and the warning goes into the pull request. @default false
   */
  readonly skipGate?: boolean;
  /** The time the gate is checked at (ms since the epoch). @default Date.now() */
  readonly now?: number;
}

export interface RollbackRequest {
  readonly to: string;
  /** Services to roll back. @default every service of the stack */
  readonly only?: readonly string[];
  /** How many earlier releases (sets of images and release pin) to walk back. @default 1 */
  readonly steps?: number;
  /** Instead of steps: back to the newest earlier state that pinned this release (a prefix). */
  readonly toRelease?: string;
  readonly history: StackHistory;
}

export interface HistoryEntry {
  readonly commit: string;
  /** Commit date, YYYY-MM-DD. */
  readonly date: string;
  readonly subject: string;
  /** Pulumi.yaml at this commit (undefined if absent: the current one is used). */
  readonly projectText: string | undefined;
  /** The stack file at this commit (undefined if absent). */
  readonly stackText: string | undefined;
}

export interface StackHistory {
  /** The committed version (HEAD); undefined when the stack file is not committed. */
  readonly head:
    { readonly projectText: string | undefined; readonly stackText: string } | undefined;
  /** Commits that touched Pulumi.yaml or the stack file, newest first (may be read lazily). */
  readonly entries: Iterable<HistoryEntry>;
}

/** A refusal raised by a step that cannot go on; plan functions turn it into `PlanRefused`. */
export class PromotionRefused extends Error {
  override name = "PromotionRefused";
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
  }
}

const TIERS: readonly Tier[] = ["dev", "staging", "prod"];
const DIGEST = /@sha256:[a-f0-9]{64}$/;

// ---------------------------------------------------------------------------------------------
// Reading stacks
// ---------------------------------------------------------------------------------------------
// Planning

/** Plans copying images from `req.from` into `req.to`'s stack file. */
export function planPromotion(files: ProjectFiles, req: PromoteRequest): Plan {
  const title = `promote ${req.from} → ${req.to}`;
  try {
    const stages = stagesOf(files.projectText, (stack) => stack in files.stacks);
    const [fromStage, toStage] = [stageNamed(stages, req.from), stageNamed(stages, req.to)];
    const warnings: string[] = [];
    const skip = promotionProblem(stages, fromStage, toStage);
    if (skip !== undefined) {
      const skips = / skips /.test(skip);
      if (!skips || !req.allowSkip)
        throw new PromotionRefused([
          skips
            ? `${skip}, or pass --allow-skip in an emergency (recorded in the pull request)`
            : skip,
        ]);
      warnings.push(`EMERGENCY (--allow-skip): ${skip}`);
    }
    const problems: string[] = [];
    const notes: string[] = [];
    checkGate(toStage, req, problems, warnings, notes);
    refuseIf(problems);
    const fromNow = current(files, fromStage.stack);
    const toNow = current(files, toStage.stack);
    const release = sourceRelease(fromStage, fromNow, req, problems, warnings, notes);
    refuseIf(problems);
    // Each stage runs the application of its release: the source its own (the first stage: the
    // one it ran), the target the one it is promoted to.
    const from = atRelease(files, fromNow, fromNow.release ?? release?.value, warnings);
    const to = atRelease(files, toNow, release?.value ?? toNow.release, warnings);
    const targetTier = tierOf(to);
    const selected = selectServices(from, to, req.only, problems);
    const outputImages = req.outputs
      ? readOutputImages(req.outputs, from.stack, problems)
      : undefined;
    refuseIf(problems);

    const changes: ImageChange[] = [];
    // Services whose pin changes to a tag: one warning for all of them.
    const tagged: { svc: string; ref: string; origin: string }[] = [];
    for (const svc of selected) {
      const configured = from.images[svc];
      // Warnings about a service matter only if its pin changes.
      const notices: string[] = [];
      let ref: string;
      let origin: string;
      if (outputImages && req.outputs) {
        const deployed = outputImages[svc];
        origin = `${from.stack}'s deployed outputs in ${basename(req.outputs.file)}`;
        if (typeof deployed !== "string") {
          problems.push(
            `${req.outputs.file} has no images.${svc}: use the output of \`pulumi stack output --json --stack ${from.stack}\` (the program exports images: { <service>: <ref> })${req.only ? "" : ", or leave the service out with --only"}`,
          );
          continue;
        }
        ref = deployed;
        const mismatch = configMismatch(configured, ref);
        if (mismatch) {
          notices.push(
            `services.${svc}.image: ${from.file} has ${describeImage(configured)} but ${from.stack}'s deployed outputs have "${ref}" (${mismatch}); promoting the deployed reference, which is what was tested`,
          );
        }
      } else if (typeof configured === "string") {
        ref = configured;
        origin = `${from.stack} config`;
      } else {
        problems.push(
          `services.${svc}.image in ${from.stack} is ${describeImage(configured)}, not a reference; its digest is known only once ${from.stack} is deployed — pass --from-outputs <${from.stack} outputs.json>`,
        );
        continue;
      }
      if (!DIGEST.test(ref)) {
        const where = `"${ref}" (${origin})`;
        if (targetTier === "prod") {
          problems.push(
            req.outputs
              ? `services.${svc}.image: ${where} has no digest; ${prodName(to)} takes digests only — pin a digest in the source stack (${from.file}), deploy ${from.stack}, and promote with its new outputs`
              : `services.${svc}.image: ${where} has no digest; ${prodName(to)} takes digests only — pass --from-outputs <${from.stack} outputs.json> or pin a digest in the source stack (${from.file})`,
          );
          continue;
        }
      }
      if (!isDeepStrictEqual(to.pins[svc], ref)) {
        changes.push({
          service: svc,
          before: to.images[svc],
          beforePinned: svc in to.pins,
          after: ref,
          origin,
        });
        warnings.push(...notices);
        if (!DIGEST.test(ref)) tagged.push({ svc, ref, origin });
      }
    }
    refuseIf(problems);
    if (tagged.length > 0) {
      const fix = `${req.outputs ? `pin a digest in ${from.file}` : `pass --from-outputs <${from.stack} outputs.json> or pin a digest in ${from.file}`} to promote exactly what ${from.stack} runs`;
      const origins = [...new Set(tagged.map((t) => t.origin))].join(", ");
      warnings.push(
        tagged.length === 1
          ? `services.${tagged[0].svc}.image: "${tagged[0].ref}" (${origins}) has no digest; copied to ${to.stack} as a tag, which can move — ${fix}`
          : `services ${tagged.map((t) => `${t.svc} ("${t.ref}")`).join(", ")}: no digests (${origins}); copied to ${to.stack} as tags, which can move — ${fix}`,
      );
    }
    const missing = req.only ? [] : from.services.filter((svc) => !to.services.includes(svc));
    if (missing.length > 0)
      notes.push(
        missing.length === 1
          ? `services.${missing[0]} is in ${from.stack} but not in ${to.stack}; not promoted`
          : `services ${missing.join(", ")} are in ${from.stack} but not in ${to.stack}; not promoted`,
      );
    const releaseChange =
      release && release.value !== toNow.release
        ? { before: toNow.release, after: release.value, origin: release.origin }
        : undefined;
    return finish(files, to, title, changes, warnings, notes, releaseChange);
  } catch (e) {
    return refusal(title, e);
  }
}

/**
 * Plans restoring, in `req.to`'s stack file, the images of the most recent commit (of the stack
 * file or Pulumi.yaml) whose effective images for the selected services differ from HEAD's.
 */
export function planRollback(files: ProjectFiles, req: RollbackRequest): Plan {
  let title = `rollback ${req.to}`;
  try {
    const stack = stackNamed(files, req.to);
    knownStacks(files, [stack]);
    const working = current(files, stack);
    const tier = tierOf(working);
    const problems: string[] = [];
    for (const svc of req.only ?? []) {
      if (!working.services.includes(svc)) problems.push(unknownWorkload(svc, working));
    }
    refuseIf(problems);
    const selected = req.only ?? working.services;
    const committed = req.history.head;
    if (!committed) {
      throw new PromotionRefused([
        `${working.file} is not committed; --rollback restores images from its git history (commit it first)`,
      ]);
    }
    // A version of the stack as it ran: its stack file with the application of the release it
    // pins (else the Pulumi.yaml committed with it).
    const asRan = (
      commit: string,
      projectText: string | undefined,
      stackText: string,
      when: string,
    ) => {
      const tree = files.treeAt?.(commit);
      const pinned = readAt(projectText ?? files.projectText, stack, stackText, when, tree);
      const ofRelease = pinned.release ? projectAt(files, pinned.release) : undefined;
      return ofRelease === undefined
        ? pinned
        : readAt(ofRelease.text, stack, stackText, when, ofRelease.tree);
    };
    const head = asRan("HEAD", committed.projectText, committed.stackText, "HEAD");

    // The stack's history as runs of equal releases (the release pin and the images of the
    // selected services), newest first. Walking back one step from the current release goes
    // past its earlier appearance, if any (what a rollback restored), to what came before: so
    // two rollbacks go two steps back instead of toggling. The release is the whole stage's:
    // rolling back some services (--only) moves their images only.
    const withRelease = req.only === undefined;
    const key = (view: StackView) =>
      JSON.stringify([
        withRelease ? (view.release ?? null) : null,
        ...selected.map((svc) => view.images[svc] ?? null),
      ]);
    const runs: { key: string; view: StackView; entry: HistoryEntry }[] = [];
    let searched = 0;
    for (const entry of req.history.entries) {
      if (entry.stackText === undefined) continue;
      searched++;
      let past: StackView;
      try {
        past = asRan(entry.commit, entry.projectText, entry.stackText, describeCommit(entry));
      } catch (e) {
        if (e instanceof StackFileError) continue; // an unreadable old version cannot be restored
        throw e;
      }
      const k = key(past);
      // A run is named by its newest commit (the release was last seen there).
      if (runs.at(-1)?.key !== k) runs.push({ key: k, view: past, entry });
    }
    let index = runs.length > 0 && runs[0].key === key(head) ? 0 : -1;
    const steps = req.steps ?? 1;
    const which = req.only ? ` for ${req.only.join(", ")}` : "";
    if (req.toRelease !== undefined) {
      const wanted = req.toRelease;
      index = runs.findIndex(
        (r) => r.key !== key(head) && r.view.release?.startsWith(wanted) === true,
      );
      if (index < 0) {
        const known = [
          ...new Set(runs.flatMap((r) => (r.view.release ? [shortRelease(r.view.release)] : []))),
        ];
        throw new PromotionRefused([
          `no earlier commit of ${working.file} pins a release starting with ${wanted} (${searched} commit${searched === 1 ? "" : "s"} searched; releases it ran: ${known.join(", ") || "none"})`,
        ]);
      }
    } else {
      for (let step = 0; step < steps && index < runs.length; step++) {
        const now = index < 0 ? key(head) : runs[index].key;
        const again = runs.findIndex((r, i) => i > index && r.key === now);
        index = (again >= 0 ? again : index) + 1;
      }
    }
    const target = runs[index];
    if (!target) {
      throw new PromotionRefused([
        `no earlier commit of ${working.file} (or Pulumi.yaml) has another release or other images${which} ${steps === 1 ? "than HEAD" : `${steps} steps back`} (${searched} commit${searched === 1 ? "" : "s"} searched); nothing to roll back to`,
      ]);
    }
    const at = describeCommit(target.entry);
    title = `rollback ${req.to} to the ${withRelease && target.view.release !== working.release ? "release" : "images"} of ${at}`;
    const origin = `commit ${target.entry.commit.slice(0, 7)}`;

    const warnings: string[] = [];
    const notes: string[] = [];
    const changes: ImageChange[] = [];
    let release: ReleaseChange | undefined;
    if (withRelease && target.view.release !== working.release) {
      if (working.release !== head.release) {
        problems.push(
          `platform:${RELEASE_KEY} in ${working.file} has uncommitted changes; commit them or discard them (git checkout -- ${working.file}) before rolling back`,
        );
      } else if (target.view.release === undefined) {
        notes.push(
          `${at} pinned no release; the release stays ${shortRelease(working.release!)} (remove platform:${RELEASE_KEY} by hand to run the checkout again)`,
        );
      } else {
        release = { before: working.release, after: target.view.release, origin };
      }
    }
    for (const svc of selected) {
      const want = target.view.images[svc];
      const now = working.images[svc];
      if (want === undefined) {
        const msg = `services.${svc} has no image at ${at}`;
        if (req.only) problems.push(`${msg}; leave it out of --only`);
        else notes.push(`${msg}; left as it is`);
        continue;
      }
      if (isDeepStrictEqual(now, want)) continue;
      if (!isDeepStrictEqual(now, head.images[svc])) {
        problems.push(
          `services.${svc}.image in ${working.file} has uncommitted changes (${describeImage(now)}, committed ${describeImage(head.images[svc])}); commit them or discard them (git checkout -- ${working.file}) before rolling back`,
        );
        continue;
      }
      if (typeof want !== "string") {
        problems.push(
          `services.${svc}.image at ${at} is ${describeImage(want)}, not a reference; rollback restores references only — set services.${svc}.image in ${working.file} by hand`,
        );
        continue;
      }
      if (!DIGEST.test(want)) {
        if (tier === "prod") {
          problems.push(
            `services.${svc}.image: "${want}" (${origin}) has no digest; ${prodName(working)} takes digests only — pin the digest that ran then by hand, or promote a digest from the previous stack`,
          );
          continue;
        }
        warnings.push(
          `services.${svc}.image: "${want}" (${origin}) has no digest; restored as a tag, which can move`,
        );
      }
      changes.push({
        service: svc,
        before: now,
        beforePinned: svc in working.pins,
        after: want,
        origin,
      });
    }
    refuseIf(problems);
    const to = release ? atRelease(files, working, release.after, warnings) : working;
    return finish(files, to, title, changes, warnings, notes, release);
  } catch (e) {
    return refusal(title, e);
  }
}

/**
 * `view` read with the application (Pulumi.yaml) of `release`: what the stage runs once it runs
 * that release. The checkout's Pulumi.yaml when there is no release, or it cannot be read.
 */
function atRelease(
  files: ProjectFiles,
  view: StackView,
  release: string | undefined,
  warnings: string[],
): StackView {
  const at = projectAtRelease(files, release, warnings);
  return at.tree === files.tree
    ? view
    : readAt(
        at.text,
        view.stack,
        files.stacks[view.stack],
        `Pulumi.yaml of release ${shortRelease(release!)}`,
        at.tree,
      );
}

/** The project (Pulumi.yaml's text and the tree of files) as of `commit`, if this clone has it. */
function projectAt(
  files: ProjectFiles,
  commit: string,
): { text: string; tree: SourceTree } | undefined {
  const tree = files.treeAt?.(commit.replace(/-dirty$/, ""));
  const text = tree?.readFile("Pulumi.yaml");
  return tree && text !== undefined ? { text, tree } : undefined;
}

/**
 * The project a stage runs with `release` pinned: the release's, or (with a warning) the
 * checkout's when the release cannot be read or there is none.
 */
function projectAtRelease(
  files: ProjectFiles,
  release: string | undefined,
  warnings: string[],
): { text: string; tree: SourceTree | undefined } {
  const checkout = { text: files.projectText, tree: files.tree };
  if (release === undefined) return checkout;
  const at = projectAt(files, release);
  if (at !== undefined) return at;
  const warning = `release ${shortRelease(release)}: its Pulumi.yaml could not be read (not a commit of this clone?); the services were read from the checkout's Pulumi.yaml`;
  if (!warnings.includes(warning)) warnings.push(warning);
  return checkout;
}

/** The target's gate: its evidence passes, or an emergency skip is recorded, or refused. */
function checkGate(
  to: Stage,
  req: PromoteRequest,
  problems: string[],
  warnings: string[],
  notes: string[],
): void {
  if (!to.gate) return;
  if (req.skipGate) {
    warnings.push(
      `EMERGENCY (--skip-gate): ${to.name}'s gate (${describeGate(to)}) was not checked`,
    );
    return;
  }
  if (!req.gate) {
    const ran = isPlainObject(req.outputs?.json) ? req.outputs.json.release : undefined;
    if (req.outputs && typeof ran !== "string") return; // refused for its missing release, with why
    problems.push(
      req.outputs
        ? `${to.name} has a gate (${describeGate(to)}), but nothing was collected about ${req.from} to check it against`
        : `${to.name} has a gate (${describeGate(to)}), checked against what ${req.from} deployed: pass --from-outputs <${req.from} outputs.json>`,
    );
    return;
  }
  const result = evaluateGate(to, req.gate, req.now ?? Date.now());
  if (result.problems.length === 0) {
    notes.push(...result.passed.map((p) => `gate: ${p}`));
    return;
  }
  problems.push(
    ...result.problems,
    "in an emergency, --skip-gate promotes anyway (recorded in the pull request)",
  );
}

function describeGate(stage: Stage): string {
  const gate = stage.gate!;
  return [
    ...(gate.soakMs > 0 ? [`soak ${formatDuration(gate.soakMs)}`] : []),
    "complete rollouts",
    ...(gate.verify !== undefined ? [`verification Job ${gate.verify}`] : []),
  ].join(", ");
}

/** The release the source ran (its outputs), or runs (its pin), or is (the checkout). */
function sourceRelease(
  fromStage: Stage,
  from: StackView,
  req: PromoteRequest,
  problems: string[],
  warnings: string[],
  notes: string[],
): { value: string; origin: string } | undefined {
  let found: { value: string; origin: string } | undefined;
  if (req.outputs) {
    const value = isPlainObject(req.outputs.json) ? req.outputs.json.release : undefined;
    if (typeof value !== "string" || !isRunningRelease(value)) {
      problems.push(
        `${req.outputs.file} has no release: ${from.stack} was not deployed with \`npm run deploy\`, which records the commit it runs; deploy it with \`npm run deploy -- --stage ${fromStage.name} --command up\`, then promote with its new outputs`,
      );
      return undefined;
    }
    found = { value, origin: `${from.stack}'s deployed outputs in ${basename(req.outputs.file)}` };
  } else if (from.release !== undefined) {
    found = { value: from.release, origin: `${from.stack}'s pin in ${from.file}` };
  } else if (fromStage.from !== undefined) {
    problems.push(
      `${fromStage.name} has no release pinned (${from.file} has no platform:${RELEASE_KEY}): promote into it first (npm run promote -- --from ${fromStage.from} --to ${fromStage.name})`,
    );
    return undefined;
  } else if (req.checkoutCommit !== undefined) {
    found = { value: req.checkoutCommit, origin: "this checkout's commit" };
    notes.push(
      `release: ${fromStage.name} runs main; without its outputs the release is this checkout's commit, ${shortRelease(req.checkoutCommit)} (--from-outputs <${from.stack} outputs.json> promotes the one it ran)`,
    );
  } else {
    warnings.push(
      `release: not pinned (no --from-outputs, and the checkout's commit is unknown); the target keeps running its current release`,
    );
    return undefined;
  }
  if (isDirty(found.value)) {
    problems.push(
      `release ${shortRelease(found.value)} (${found.origin}): ${from.stack} ran uncommitted changes, which are no release; deploy ${fromStage.name} from a clean checkout, then promote with its new outputs`,
    );
    return undefined;
  }
  return found;
}

function finish(
  files: ProjectFiles,
  to: StackView,
  title: string,
  changes: ImageChange[],
  warnings: string[],
  notes: string[],
  release?: ReleaseChange,
): PlanReady {
  const before = files.stacks[to.stack];
  const base = {
    ok: true as const,
    title,
    stack: to.stack,
    file: to.file,
    warnings,
    notes,
    ...(release ? { release } : {}),
    pinnedRelease: release?.after ?? to.release,
  };
  if (changes.length === 0 && !release) return { ...base, changes, before, after: before };
  let after: string;
  try {
    after = applyPromotion(
      before,
      changes.map((c) => ({ service: c.service, image: c.after })),
      { project: to.project, ...(release ? { release: release.after } : {}) },
    );
  } catch (e) {
    if (!(e instanceof EditError)) throw e;
    throw new PromotionRefused([`${to.file}: ${e.message}; set the images by hand`]);
  }
  const at = projectAtRelease(files, release?.after ?? to.release, warnings);
  const edited = readAt(at.text, to.stack, after, "the edited file", at.tree);
  for (const c of changes) {
    if (edited.images[c.service] !== c.after) {
      throw new PromotionRefused([
        `${to.file}: services.${c.service}.image would still be ${describeImage(edited.images[c.service])} after the edit; set it to "${c.after}" by hand`,
      ]);
    }
  }
  const problems = configProblems(edited);
  if (problems.length > 0) {
    const already = configProblems(to).length > 0;
    throw new PromotionRefused([
      `${to.file} would fail the config schema after the edit${already ? " (it already fails before; fix it first)" : ""}:`,
      ...problems.map((p) => `  - ${p}`),
    ]);
  }
  return { ...base, changes, before, after };
}

function refusal(title: string, e: unknown): PlanRefused {
  if (e instanceof PromotionRefused) {
    return {
      ok: false,
      message: `${title} refused; nothing was changed:\n${e.problems.map((p) => (p.startsWith("  ") ? `  ${p}` : `  - ${p}`)).join("\n")}`,
    };
  }
  if (e instanceof StackFileError)
    return { ok: false, message: `${title} refused; nothing was changed:\n  - ${e.message}` };
  throw e;
}

function refuseIf(problems: readonly string[]): void {
  if (problems.length > 0) throw new PromotionRefused(problems);
}

function knownStacks(files: ProjectFiles, stacks: readonly string[]): void {
  const known = Object.keys(files.stacks).sort();
  const problems = stacks
    .filter((s) => !(s in files.stacks))
    .map((s) => {
      const hint = closest(s, known);
      return `unknown stack "${s}": no ${stackFileName(s)} in ${files.dir} (${hint ? `did you mean "${hint}"? ` : ""}stacks: ${known.join(", ") || "none"})`;
    });
  refuseIf(problems);
}

function current(files: ProjectFiles, stack: string): StackView {
  return readAt(files.projectText, stack, files.stacks[stack], undefined, files.tree);
}

function readAt(
  projectText: string,
  stack: string,
  stackText: string,
  when: string | undefined,
  tree: SourceTree | undefined,
): StackView {
  try {
    return readStack(projectText, stack, stackText, tree);
  } catch (e) {
    if (e instanceof StackFileError && when) throw new StackFileError(`${e.message} (${when})`);
    throw e;
  }
}

function tierOf(stack: StackView): Tier {
  const tier = stack.raw.tier;
  if (typeof tier === "string" && (TIERS as readonly string[]).includes(tier)) return tier as Tier;
  throw new PromotionRefused([
    `${stack.file}: platform:tier is ${tier === undefined ? "not set" : JSON.stringify(tier)}; set it to ${TIERS.join(", ")} (its policies; prod takes digests only)`,
  ]);
}

/** The stack `name` names: a stack with a file, else a stage's stack (rollback needs no pipeline). */
export function stackNamed(files: ProjectFiles, name: string): string {
  if (name in files.stacks) return name;
  try {
    return (
      findStage(
        stagesOf(files.projectText, (st) => st in files.stacks),
        name,
      )?.stack ?? name
    );
  } catch {
    return name; // no usable pipeline: the name is reported as an unknown stack
  }
}

/** The stage `name` names (a stage's name or its stack); refused, listing the stages, if none. */
function stageNamed(stages: readonly Stage[], name: string): Stage {
  const stage = findStage(stages, name);
  if (stage) return stage;
  throw new PromotionRefused([unknownStage(stages, name)]);
}

function selectServices(
  from: StackView,
  to: StackView,
  only: readonly string[] | undefined,
  problems: string[],
): string[] {
  if (!only) return from.services.filter((s) => to.services.includes(s));
  for (const svc of only) {
    if (!from.services.includes(svc)) problems.push(unknownWorkload(svc, from));
    else if (!to.services.includes(svc)) {
      problems.push(
        `services.${svc} is in ${from.stack} but not in ${to.stack} (${to.file} removes it); leave it out of --only`,
      );
    }
  }
  return [...only];
}

function unknownWorkload(svc: string, stack: StackView): string {
  const hint = closest(svc, stack.services);
  return `unknown workload "${svc}" in ${stack.stack} (${hint ? `did you mean "${hint}"? ` : ""}services: ${stack.services.join(", ") || "none"})`;
}

function readOutputImages(
  outputs: NonNullable<PromoteRequest["outputs"]>,
  from: string,
  problems: string[],
): Record<string, unknown> {
  const images = isPlainObject(outputs.json) ? outputs.json.images : undefined;
  if (!isPlainObject(images)) {
    problems.push(
      `${outputs.file}: no "images" object; save the source stack's outputs with \`pulumi stack output --json --stack ${from} > ${basename(outputs.file)}\``,
    );
    return {};
  }
  return images;
}

function prodName(stack: StackView): string {
  const tier = tierOf(stack);
  return stack.stack === tier ? stack.stack : `${stack.stack} (tier ${tier})`;
}

function describeCommit(entry: HistoryEntry): string {
  return `${entry.commit.slice(0, 7)} (${entry.date}, "${entry.subject}")`;
}

/** An image for messages: the quoted reference, or what a build pushes. */
export function describeImage(image: ImageValue | undefined): string {
  if (image === undefined) return "(none)";
  if (typeof image === "string") return `"${image}"`;
  const build = isPlainObject(image.build) ? image.build : {};
  return typeof build.repository === "string" ? `a build of ${build.repository}` : "a build";
}

/** Splits `registry/repo[:tag][@digest]`. */
export function parseImageRef(ref: string): { repository: string; tag?: string; digest?: string } {
  const at = ref.indexOf("@");
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  const colon = name.lastIndexOf(":");
  const hasTag = colon > name.lastIndexOf("/");
  return {
    repository: hasTag ? name.slice(0, colon) : name,
    ...(hasTag ? { tag: name.slice(colon + 1) } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** Why a deployed reference does not match the configured image, or undefined if it does. */
function configMismatch(configured: ImageValue | undefined, deployed: string): string | undefined {
  const d = parseImageRef(deployed);
  if (configured === undefined) return "no image configured";
  if (typeof configured !== "string") {
    const build = isPlainObject(configured.build) ? configured.build : {};
    return build.repository === d.repository
      ? undefined
      : `another repository than the build's ${String(build.repository)}`;
  }
  const c = parseImageRef(configured);
  if (c.repository !== d.repository) return "another repository";
  if (c.tag !== undefined && d.tag !== undefined && c.tag !== d.tag) return "another tag";
  if (c.digest !== undefined && d.digest !== undefined && c.digest !== d.digest)
    return "another digest";
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Showing what changes

/** A per-service before → after listing, then a unified diff of the stack file. */
export function formatDiff(plan: PlanReady): string {
  const width = Math.max(...plan.changes.map((c) => c.service.length));
  const lines = [`${plan.title}: ${plan.file}`];
  if (plan.release) {
    const r = plan.release;
    const before = r.before === undefined ? "none pinned" : shortRelease(r.before);
    lines.push(`  release ${before} → ${shortRelease(r.after)} (${r.origin})`);
  }
  for (const c of plan.changes) {
    const before = `${describeImage(c.before)}${c.beforePinned ? "" : " (from Pulumi.yaml)"}`;
    const same = isDeepStrictEqual(c.before, c.after)
      ? " (same image, now pinned in the stack file)"
      : "";
    lines.push(
      `  ${c.service.padEnd(width)}  ${before}`,
      `  ${" ".repeat(width)}→ "${c.after}" (${c.origin})${same}`,
    );
  }
  lines.push("", unifiedDiff(plan.file, plan.before, plan.after));
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// The few side effects

/** Writes `text` to a temporary file beside `file`, then renames it over `file`. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text, { mode: existsSync(file) ? statSync(file).mode & 0o777 : 0o644 });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * The git history of a stack's config in `dir`: HEAD's version and the commits that touched
 * Pulumi.yaml or Pulumi.<stack>.yaml, newest first; each commit's files are read when reached.
 * Throws PromotionRefused when `dir` is not in a git work tree.
 */
export function readGitHistory(dir: string, stack: string): StackHistory {
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", dir, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 64 << 20,
    });
  const show = (rev: string, file: string) => gitShow(dir, rev, file);
  try {
    git("rev-parse", "--is-inside-work-tree");
  } catch {
    throw new PromotionRefused([
      `${dir} is not in a git repository; --rollback restores images from ${stackFileName(stack)}'s git history`,
    ]);
  }
  const file = stackFileName(stack);
  let log = "";
  try {
    log = git("log", "--format=%H%x09%cs%x09%s", "--", "Pulumi.yaml", file);
  } catch {
    // No commits yet.
  }
  const stackText = show("HEAD", file);
  return {
    head:
      stackText === undefined ? undefined : { projectText: show("HEAD", "Pulumi.yaml"), stackText },
    entries: {
      *[Symbol.iterator]() {
        for (const line of log.split("\n").filter(Boolean)) {
          const [commit, date, ...subject] = line.split("\t");
          yield {
            commit,
            date,
            subject: subject.join("\t"),
            projectText: show(commit, "Pulumi.yaml"),
            stackText: show(commit, file),
          };
        }
      },
    },
  };
}
