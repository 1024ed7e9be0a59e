// Draws one test of the demo as text: a row per request, time across.

export interface TimelineRow {
  label: string;
  lane: string;
  /** All times in ms from the start of the test. */
  sent: number;
  /** When the handler started running (after waiting for the loop or a worker). */
  ranFrom: number;
  ranTo: number;
  /** When the client had the whole response. */
  done: number;
  status: number;
}

const waitingMark = "░";
const runningMark = "█";

/**
 * Renders rows like:
 *
 *     GET /sync/sleep    worker#1 │████████████████████│ ran 2001 ms, done at 2003 ms
 *     GET /async/hello   loop     │ █                  │ waited 0 ms, ran 0 ms, done at 52 ms
 */
export function renderTimeline(title: string, rows: TimelineRow[], width = 50): string {
  const span = Math.max(1, ...rows.map((r) => r.done));
  const column = (t: number) => Math.min(width - 1, Math.max(0, Math.floor((t / span) * width)));
  const labelWidth = Math.max(...rows.map((r) => r.label.length));
  const laneWidth = Math.max(4, ...rows.map((r) => r.lane.length));
  const indent = " ".repeat(labelWidth + laneWidth + 3);

  const lines = [title, `${indent}${axis(span, width)}`];
  for (const row of rows) {
    const cells = Array.from({ length: width }, () => " ");
    for (let c = column(row.sent); c < column(row.ranFrom); c++) cells[c] = waitingMark;
    for (let c = column(row.ranFrom); c <= column(row.ranTo); c++) cells[c] = runningMark;
    const waited = Math.max(0, row.ranFrom - row.sent);
    lines.push(
      `${row.label.padEnd(labelWidth)} ${row.lane.padEnd(laneWidth)} │${cells.join("")}│ ` +
        `sent at ${fmt(row.sent)}, waited ${fmt(waited)}, ran ${fmt(row.ranTo - row.ranFrom)}, ` +
        `answered at ${fmt(row.done)} (${row.status})`,
    );
  }
  lines.push(`${indent}${waitingMark} waiting (for the loop or a free worker)   ${runningMark} handler running`);
  return lines.join("\n");
}

function axis(span: number, width: number): string {
  const cells = Array.from({ length: width + 2 }, () => " ");
  const ticks = 4;
  for (let i = 0; i <= ticks; i++) {
    const label = fmt((span * i) / ticks);
    const at = Math.min(width + 2 - label.length, Math.round((width * i) / ticks));
    for (let j = 0; j < label.length; j++) cells[at + j] = label[j]!;
  }
  return cells.join("").trimEnd();
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}
