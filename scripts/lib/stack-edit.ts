/**
 * Editing a stack file for promotion: set image and release values in the YAML text itself,
 * spliced at the node ranges the `yaml` parser reports, so comments, key order, flow/block style
 * and quoting outside the changed values keep every byte. Pure.
 */
import { isDeepStrictEqual } from "node:util";
import {
  isAlias,
  isMap,
  isScalar,
  parse,
  parseDocument,
  Scalar,
  visit,
  type Pair,
  type YAMLMap,
} from "yaml";
import { RELEASE_KEY } from "../../platform/config/release";

/** The stack file cannot be edited without touching more than the image values. */
export class EditError extends Error {
  override name = "EditError";
}

export interface ApplyOptions {
  /** The config namespace. @default "platform" */
  readonly project?: string;
  /** The release (commit) to pin in `config.<project>:release`, when it changes. */
  readonly release?: string;
}

/**
 * Sets `config.<project>:overrides.services.<service>.image` for each change (and
 * `config.<project>:release` when `options.release` is given) and returns the new text.
 * Existing values are replaced in place (keeping their quoting); missing maps are added
 * after the last key of the deepest existing map, in its style (block lines at the file's
 * indentation, or `{ k: v }` inside a flow map). Every other byte is kept. Throws EditError when
 * the path runs through something other than a mapping.
 */
export function applyPromotion(
  docText: string,
  changes: readonly { readonly service: string; readonly image: string }[],
  options: ApplyOptions = {},
): string {
  const project = options.project ?? "platform";
  // A file that writes its keys bare (`overrides:`, `release:`) keeps doing so.
  const keyIn = (config: unknown, key: string) =>
    isMap(config) && !config.has(`${project}:${key}`) && config.has(key)
      ? key
      : `${project}:${key}`;
  const edits: { path: (config: unknown) => string[]; value: string }[] = changes.map(
    ({ service, image }) => ({
      path: (config) => ["config", keyIn(config, "overrides"), "services", service, "image"],
      value: image,
    }),
  );
  if (options.release !== undefined)
    edits.push({
      path: (config) => ["config", keyIn(config, RELEASE_KEY)],
      value: options.release,
    });
  let text = docText;
  const expected = parseDocument(docText);
  for (const edit of edits) {
    const doc = parseDocument(text);
    if (doc.errors.length > 0)
      throw new EditError(`not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
    const path = edit.path(doc.get("config"));
    refuseShared(doc, path);
    text = setScalar(text, doc.contents, path, edit.value);
    expected.setIn(path, edit.value);
  }
  // The splice must change exactly the intended values: compare with the Document API's own edit.
  const result = parseDocument(text);
  if (result.errors.length > 0 || !isDeepStrictEqual(result.toJS(), expected.toJS())) {
    throw new EditError("could not set the images without changing other values");
  }
  return text;
}

/**
 * Refuses an edit through a YAML alias or through an anchored node that an alias reuses: the
 * edit would silently change every place that shares the node (another service, say).
 */
function refuseShared(doc: ReturnType<typeof parseDocument>, path: readonly string[]): void {
  const reused = new Set<string>();
  visit(doc, {
    Alias(_key, node) {
      reused.add(node.source);
    },
  });
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length && isMap(node); i++) {
    const pair = node.items.find((p) => isScalar(p.key) && p.key.value === path[i]);
    if (!pair) return;
    const at = path.slice(0, i + 1).join(".");
    if (isAlias(pair.value))
      throw new EditError(
        `${at} is an alias (*${pair.value.source}) of another node; write its settings out in full, then promote it`,
      );
    const anchor = (pair.value as { anchor?: string } | null)?.anchor;
    if (anchor !== undefined && reused.has(anchor))
      throw new EditError(
        `${at} is anchored (&${anchor}) and reused by an alias elsewhere, so setting its image would change those too; write the aliased copies out in full, then promote`,
      );
    node = pair.value;
  }
}

function setScalar(text: string, root: unknown, path: readonly string[], value: string): string {
  if (root === null || root === undefined) {
    return insertBlock(text, text.length, 0, indentStep(text, undefined), path, value);
  }
  let node: unknown = root;
  for (let i = 0; i < path.length; i++) {
    if (!isMap(node))
      throw new EditError(`${path.slice(0, i).join(".") || "the document"} is not a mapping`);
    const map = node as YAMLMap<unknown, unknown>;
    const pair = map.items.find((p) => isScalar(p.key) && p.key.value === path[i]);
    if (!pair) return insertInto(text, map, root, path.slice(i), value);
    if (i === path.length - 1) return replaceValue(text, pair, Boolean(map.flow), value);
    node = pair.value;
  }
  return text;
}

function insertInto(
  text: string,
  map: YAMLMap<unknown, unknown>,
  root: unknown,
  rest: readonly string[],
  value: string,
): string {
  const [start, end] = map.range ?? [0, 0];
  if (map.flow) {
    const nested = rest.reduceRight(
      (inner, key, i) =>
        `${scalarText(key, true)}: ${i === rest.length - 1 ? inner : `{ ${inner} }`}`,
      scalarText(value, true),
    );
    if (map.items.length === 0) return `${text.slice(0, start)}{ ${nested} }${text.slice(end)}`;
    const last = map.items[map.items.length - 1];
    const at = rangeOf(last.value ?? last.key)[1];
    return `${text.slice(0, at)}, ${nested}${text.slice(at)}`;
  }
  const indent = column(text, rangeOf(map.items[0].key)[0]);
  return insertBlock(text, end, indent, indentStep(text, root), rest, value);
}

/** Inserts `k1:\n  k2:\n    k3: value` as new lines after the line that holds `pos - 1`. */
function insertBlock(
  text: string,
  pos: number,
  indent: number,
  step: number,
  keys: readonly string[],
  value: string,
): string {
  const lines = keys.map((key, i) => {
    const line = `${" ".repeat(indent + i * step)}${scalarText(key, false)}:`;
    return i === keys.length - 1 ? `${line} ${scalarText(value, false)}` : line;
  });
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  let at = pos;
  if (at > 0 && text[at - 1] !== "\n") {
    const nl = text.indexOf("\n", at);
    at = nl === -1 ? text.length : nl + 1;
  }
  if (at === text.length && text.length > 0 && !text.endsWith("\n"))
    return `${text}${eol}${lines.join(eol)}`;
  return `${text.slice(0, at)}${lines.join(eol)}${eol}${text.slice(at)}`;
}

function replaceValue(
  text: string,
  pair: Pair<unknown, unknown>,
  inFlow: boolean,
  value: string,
): string {
  const v = pair.value;
  if (isScalar(v) && v.range && v.type !== Scalar.BLOCK_LITERAL && v.type !== Scalar.BLOCK_FOLDED) {
    const [start, end] = v.range;
    if (start === end) {
      // An empty value (`image:`): add a space before it, and one before a comment after it.
      const lead = text[start - 1] === " " ? "" : " ";
      const trail = text[start] === "#" ? " " : "";
      return `${text.slice(0, start)}${lead}${scalarText(value, inFlow)}${trail}${text.slice(end)}`;
    }
    const rendered =
      v.type === Scalar.QUOTE_DOUBLE
        ? JSON.stringify(value)
        : v.type === Scalar.QUOTE_SINGLE
          ? `'${value.replace(/'/g, "''")}'`
          : scalarText(value, inFlow);
    return `${text.slice(0, start)}${rendered}${text.slice(end)}`;
  }
  // A collection or block scalar: replace everything from the end of the key to the end of the value.
  const keyEnd = rangeOf(pair.key)[1];
  const valueEnd = rangeOf(v)[1];
  const newline = text.slice(keyEnd, valueEnd).endsWith("\n") ? "\n" : "";
  return `${text.slice(0, keyEnd)}: ${scalarText(value, inFlow)}${newline}${text.slice(valueEnd)}`;
}

function rangeOf(node: unknown): [number, number, number] {
  const range = (node as { range?: [number, number, number] | null } | null)?.range;
  if (!range) throw new EditError("a node without a source position");
  return range;
}

function column(text: string, pos: number): number {
  return pos - (text.lastIndexOf("\n", pos - 1) + 1);
}

/** The file's indentation step: how far the first nested block map is indented. @default 2 */
function indentStep(text: string, root: unknown): number {
  if (isMap(root) && !root.flow) {
    for (const pair of root.items) {
      const child = pair.value;
      if (isMap(child) && !child.flow && child.items.length > 0 && pair.key) {
        const step =
          column(text, rangeOf(child.items[0].key)[0]) - column(text, rangeOf(pair.key)[0]);
        if (step > 0) return step;
      }
    }
  }
  return 2;
}

/** A scalar as plain text when it reads back as the same string, else double-quoted. */
function scalarText(value: string, inFlow: boolean): string {
  try {
    const back = inFlow
      ? (parse(`{ k: ${value} }`) as { k?: unknown } | null)?.k
      : parse(`k: ${value}`)?.k;
    if (back === value && !/[\n#]/.test(value)) return value;
  } catch {
    // not plain-safe
  }
  return JSON.stringify(value);
}
