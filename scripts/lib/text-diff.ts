/** Text diffs for the terminal, as `diff -u` prints them. Pure. */

/** A unified diff (3 lines of context) of two texts, as `diff -u` prints it. */
export function unifiedDiff(file: string, a: string, b: string, context = 3): string {
  const x = splitLines(a);
  const y = splitLines(b);
  // Longest common subsequence table; stack files are small.
  const lcs: number[][] = Array.from({ length: x.length + 1 }, () =>
    new Array<number>(y.length + 1).fill(0),
  );
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  // Each op records how many old (i) and new (j) lines come before it.
  type Op = { kind: " " | "-" | "+"; line: string; i: number; j: number };
  const ops: Op[] = [];
  let [i, j] = [0, 0];
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      ops.push({ kind: " ", line: x[i], i: i++, j: j++ });
    } else if (i < x.length && (j === y.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push({ kind: "-", line: x[i], i: i++, j });
    } else {
      ops.push({ kind: "+", line: y[j], i, j: j++ });
    }
  }
  const out = [`--- a/${file}`, `+++ b/${file}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k].kind === " ") {
      k++;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` lines after the last change
    // that is at most 2 * context lines away from the next one.
    const first = Math.max(0, k - context);
    let last = k;
    for (let m = k; m < ops.length; m++) {
      if (ops[m].kind !== " ") last = m;
      else if (m - last > 2 * context) break;
    }
    const end = Math.min(ops.length, last + context + 1);
    const hunk = ops.slice(first, end);
    const oldLen = hunk.filter((o) => o.kind !== "+").length;
    const newLen = hunk.filter((o) => o.kind !== "-").length;
    const oldStart = oldLen === 0 ? hunk[0].i : hunk[0].i + 1;
    const newStart = newLen === 0 ? hunk[0].j : hunk[0].j + 1;
    out.push(`@@ -${oldStart},${oldLen} +${newStart},${newLen} @@`);
    out.push(...hunk.map((o) => `${o.kind}${o.line}`));
    k = end;
  }
  return out.join("\n");
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}
