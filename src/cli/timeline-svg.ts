// Draws the demo's tests as one SVG picture (or an HTML page holding it), for a blog post or a
// README: a row per request, its wait and its run, the lane it ran on, and loop blocks.
import type { TimelineRow } from "./timeline.js";

export interface PicturePanel {
  title: string;
  rows: TimelineRow[];
  /** Loop blocks the monitor reported, in ms from the start of the test. */
  blocks: { from: number; to: number; label: string }[];
  /** One or two sentences under the panel. */
  caption: string;
}

const width = 960;
const labelWidth = 250;
const plotWidth = width - labelWidth - 40;
const rowHeight = 30;
const colours = { waiting: "#cbd5e1", loop: "#2563eb", worker: "#16a34a", block: "#dc2626", ink: "#1d2327", muted: "#6b7280", grid: "#e5e7eb" };

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const ms = (t: number) => (t >= 1000 ? `${(t / 1000).toFixed(2)} s` : `${Math.round(t)} ms`);

export function renderPicture(panels: PicturePanel[]): string {
  const parts: string[] = [];
  let y = 20;
  for (const panel of panels) {
    const span = Math.max(1, ...panel.rows.map((r) => r.done));
    const x = (t: number) => labelWidth + (Math.max(0, t) / span) * plotWidth;
    parts.push(`<text x="20" y="${y + 16}" font-size="16" font-weight="600" fill="${colours.ink}">${escapeXml(panel.title)}</text>`);
    y += 34;
    const plotTop = y;
    const plotBottom = y + panel.rows.length * rowHeight;
    for (let i = 0; i <= 4; i++) {
      const t = (span * i) / 4;
      parts.push(
        `<line x1="${x(t)}" x2="${x(t)}" y1="${plotTop}" y2="${plotBottom + 4}" stroke="${colours.grid}"/>`,
        `<text x="${x(t)}" y="${plotBottom + 18}" font-size="11" fill="${colours.muted}" text-anchor="middle">${ms(t)}</text>`,
      );
    }
    for (const row of panel.rows) {
      const laneColour = row.lane === "loop" ? colours.loop : colours.worker;
      parts.push(
        `<text x="20" y="${y + 19}" font-size="13" font-family="ui-monospace, monospace" fill="${colours.ink}">${escapeXml(row.label)}</text>`,
        `<text x="${labelWidth - 10}" y="${y + 19}" font-size="12" font-family="ui-monospace, monospace" fill="${laneColour}" text-anchor="end">${escapeXml(row.lane)}</text>`,
        `<rect x="${x(row.sent)}" y="${y + 6}" width="${Math.max(1, x(row.ranFrom) - x(row.sent))}" height="18" rx="3" fill="${colours.waiting}"/>`,
        `<rect x="${x(row.ranFrom)}" y="${y + 6}" width="${Math.max(3, x(row.ranTo) - x(row.ranFrom))}" height="18" rx="3" fill="${laneColour}"/>`,
        `<circle cx="${x(row.done)}" cy="${y + 15}" r="3.5" fill="${colours.ink}"/>`,
      );
      y += rowHeight;
    }
    for (const block of panel.blocks) {
      parts.push(
        `<rect x="${x(block.from)}" y="${plotTop}" width="${Math.max(2, x(block.to) - x(block.from))}" height="${y - plotTop}" fill="${colours.block}" opacity="0.10"/>`,
        `<text x="${x(block.from) + 4}" y="${plotTop - 4}" font-size="12" font-weight="600" fill="${colours.block}">${escapeXml(block.label)}</text>`,
      );
    }
    y += 36;
    parts.push(`<text x="20" y="${y}" font-size="13" fill="${colours.ink}">${escapeXml(panel.caption)}</text>`);
    y += 34;
    parts.push(`<line x1="20" x2="${width - 20}" y1="${y - 14}" y2="${y - 14}" stroke="${colours.grid}"/>`);
  }
  const legend: [string, string, number][] = [
    [colours.waiting, "waiting for the loop or a worker", 1],
    [colours.loop, "running on the event loop", 1],
    [colours.worker, "running on a worker thread", 1],
    [colours.block, "event loop blocked", 0.35],
  ];
  let lx = 20;
  for (const [colour, text, opacity] of legend) {
    parts.push(`<rect x="${lx}" y="${y}" width="14" height="10" rx="2" fill="${colour}" opacity="${opacity}"/>`);
    parts.push(`<text x="${lx + 20}" y="${y + 10}" font-size="12" fill="${colours.muted}">${escapeXml(text)}</text>`);
    lx += 40 + text.length * 6.5;
  }
  parts.push(
    `<circle cx="${lx + 7}" cy="${y + 5}" r="3.5" fill="${colours.ink}"/><text x="${lx + 20}" y="${y + 10}" font-size="12" fill="${colours.muted}">answer received</text>`,
  );
  y += 24;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">\n` +
    `<rect width="100%" height="100%" fill="#ffffff"/>\n${parts.join("\n")}\n</svg>\n`
  );
}

export function pictureAsHtml(svg: string, title: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title></head>\n<body style="margin:24px;background:#fafafa">\n${svg}</body></html>\n`;
}
