// What `loopwise check` prints: each finding as file:line:column first (so editors and CI link
// it), the routes it stalls, the chain of calls, and the fix; or the whole report as JSON.
import type { CheckReport, Finding, Place } from "./check-apps.js";

const at = (p: Place) => `${p.file}:${p.line}:${p.column}`;

export function reportText(report: CheckReport, apps: number): string {
  const lines: string[] = [];
  for (const finding of report.findings) {
    const routes = listed(finding.routes);
    lines.push(`${at(finding.call)}  ${finding.call.api} blocks the event loop in ${routes}${apps > 1 ? ` (${finding.app})` : ""}`);
    lines.push(`    chain: ${chain(finding)}`);
    lines.push(`    fix: ${finding.fix}`);
    lines.push("");
  }
  for (const state of report.perWorkerState) {
    const what =
      state.kind === "in-memory-database"
        ? `an in-memory database used by ${listed(state.routes)} in workers: each worker has its own`
        : `module-level state written by ${listed(state.routes)} in workers: each worker has its own copy`;
    lines.push(`${at(state.variable)}  warning: ${state.variable.name} is ${what}`);
    lines.push(`    ${state.kind === "in-memory-database" ? "used" : "written"} at: ${state.writes.map(at).join(", ")}`);
    lines.push(`    fix: ${state.fix}`);
    lines.push("");
  }
  for (const skipped of report.unchecked) {
    lines.push(`not checked: the ${skipped.kind} ${skipped.name} of ${listed(skipped.routes)}: ${skipped.reason}`);
  }
  const count = report.findings.length;
  const exempted = report.exempted.length > 0 ? ` (${report.exempted.length} more marked as deliberate)` : "";
  const scope = `${report.routes} route${report.routes === 1 ? "" : "s"} checked, ${report.loopCode} function${report.loopCode === 1 ? "" : "s"} on the event loop read, in ${(report.durationMs / 1000).toFixed(1)} s`;
  lines.push(
    count === 0
      ? `No blocking calls on the event loop${exempted}: ${scope}.`
      : `${count} blocking call${count === 1 ? "" : "s"} on the event loop${exempted}: ${scope}.`,
  );
  const warnings = report.perWorkerState.length;
  if (warnings > 0) lines.push(`${warnings} warning${warnings === 1 ? "" : "s"}: module-level state that is one per worker (above).`);
  return lines.join("\n");
}

export function reportJson(report: CheckReport): string {
  return JSON.stringify({ ok: report.findings.length === 0, ...report, durationMs: Math.round(report.durationMs) }, null, 2);
}

/** handler `name` (file:line) → helper() file:line → api file:line */
function chain(finding: Finding): string {
  const code = finding.code;
  const start = `${code.kind}${code.name !== "anonymous" ? ` ${code.name}` : ""} (${at(code)})`;
  return [start, ...finding.via.map((hop) => `${hop.callee}() ${at(hop)}`), `${finding.call.callee}() ${at(finding.call)}`].join(" → ");
}

function listed(routes: string[]): string {
  return routes.length <= 3 ? routes.join(", ") : `${routes.slice(0, 3).join(", ")} and ${routes.length - 3} more`;
}
