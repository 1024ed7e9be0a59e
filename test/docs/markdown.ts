// The docs' Markdown as the docs tests see it: every page, and every fenced block on it with
// the hidden markers (HTML comments) written just above it.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../../", import.meta.url));

/** What a comment line above a block says about it. */
export interface Markers {
  /** `<!-- from FILE -->`: the block is FILE, or a part of it (`// ...` marks a gap). */
  from?: string;
  /** `<!-- session [ENV=value ...] MODULE:EXPORT [flags] -->`: serve that app and run the block's `$` lines. */
  session?: string[];
  /** `<!-- cwd DIR -->`: the block's paths are relative to DIR (the README's hello world). */
  cwd?: string;
}

export interface Block {
  /** The page, relative to the repository root. */
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  markers: Markers;
}

/** README.md and every Markdown page under docs/, relative to the root. */
export function pages(): string[] {
  const found = ["README.md"];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".md")) found.push(path);
    }
  };
  walk("docs");
  return found.sort();
}

export function readPage(page: string): string {
  return readFileSync(join(root, page), "utf8");
}

export function blocksOf(page: string): Block[] {
  const lines = readPage(page).split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ page, line: start + 1, lang: open[1]!, code: body.join("\n"), markers: markersAbove(lines, start) });
  }
  return blocks;
}

/** The comment lines right above a fence (blank lines between them and the fence are allowed). */
function markersAbove(lines: string[], fence: number): Markers {
  const markers: Markers = {};
  let i = fence - 1;
  while (i >= 0 && lines[i]!.trim() === "") i--;
  for (; i >= 0; i--) {
    const comment = /^<!--\s*(from|session|cwd)\s+(.+?)\s*-->$/.exec(lines[i]!.trim());
    if (!comment) break;
    const [, kind, value] = comment;
    if (kind === "from") markers.from = value;
    else if (kind === "cwd") markers.cwd = value;
    else markers.session = value!.split(/\s+/);
  }
  return markers;
}

/** Every relative link target on a page: `[text](target)` and `![alt](target)`, not inside code blocks. */
export function linksOf(page: string): { target: string; line: number }[] {
  const links: { target: string; line: number }[] = [];
  let inCode = false;
  readPage(page)
    .split("\n")
    .forEach((text, index) => {
      if (/^```/.test(text)) inCode = !inCode;
      if (inCode) return;
      for (const match of text.replace(/`[^`]*`/g, "").matchAll(/\]\(([^)\s]+)\)/g)) {
        if (!/^[a-z]+:/i.test(match[1]!)) links.push({ target: match[1]!, line: index + 1 });
      }
    });
  return links;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function anchorsOf(page: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inCode = false;
  for (const text of readPage(page).split("\n")) {
    if (/^```/.test(text)) inCode = !inCode;
    const heading = !inCode && /^#{1,6}\s+(.+?)\s*$/.exec(text);
    if (!heading) continue;
    const slug = heading[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

export const fromRoot = (path: string) => relative(root, path);
