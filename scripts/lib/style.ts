/**
 * Colour for the command-line tools: in a terminal only, never under NO_COLOR
 * (https://no-color.org) or when the output is a pipe or a file; FORCE_COLOR forces it.
 */

/** Whether output to `stream` gets colour. */
export function colorEnabled(
  stream: { readonly isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true;
}

const CODES = { red: 31, green: 32, yellow: 33, bold: 1, dim: 2 } as const;

const paint = (code: number, text: string) => `\u001b[${code}m${text}\u001b[0m`;

/**
 * A diff-like report with colour by line: additions green, removals red, changed objects
 * yellow, replacements and exposure warnings bold red, hunk headers dim. Text is unchanged but
 * for the escape codes.
 */
export function colorLines(text: string): string {
  return text
    .split("\n")
    .map((line) => {
      if (/^\s*(!!|!) /.test(line)) return paint(CODES.bold, paint(CODES.red, line));
      if (/^(\+\+\+|---) /.test(line) || /^@@ /.test(line)) return paint(CODES.dim, line);
      if (/^\s*\+/.test(line)) return paint(CODES.green, line);
      if (/^\s*-/.test(line)) return paint(CODES.red, line);
      if (/^\s*~ /.test(line)) return paint(CODES.yellow, line);
      return line;
    })
    .join("\n");
}
