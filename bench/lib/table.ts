// Prints a scenario as an aligned table, and as Markdown for the README when asked.

export interface Row {
  [column: string]: string;
}

export function printTable(title: string, rows: Row[], markdown: boolean): void {
  const columns = Object.keys(rows[0] ?? {});
  console.log(`\n${title}`);
  if (markdown) {
    console.log(`| ${columns.join(" | ")} |`);
    console.log(`|${columns.map((_c, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`);
    for (const row of rows) console.log(`| ${columns.map((c) => row[c]).join(" | ")} |`);
    return;
  }
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  console.log(line(columns));
  for (const row of rows) console.log(line(columns.map((c) => row[c]!)));
}

export const fmt = {
  int: (n: number) => Math.round(n).toLocaleString("en-US"),
  ms: (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1)),
  ratio: (n: number) => `${n.toFixed(2)}×`,
};
