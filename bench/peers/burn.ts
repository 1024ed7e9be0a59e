// CPU work of a fixed size: the stand-in for hashing, image or PDF work. The size is fixed in
// iterations, not in time, so a server that runs more burns at once than it has cores gains
// nothing from it. The bench calibrates it to about 100 ms on an idle core (BURN_ITERATIONS).
const iterations = Number(process.env.BURN_ITERATIONS ?? 20_000_000);

export function burnCpu(share = 1): number {
  let x = 0;
  const n = Math.round(iterations * share);
  for (let i = 0; i < n; i++) x = (x * 31 + i) % 1_000_003;
  return x;
}

/** Iterations of burnCpu's loop that take `ms` on this machine, measured on the calling thread. */
export function calibrate(ms: number): number {
  const probe = 2_000_000;
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = performance.now();
    let x = 0;
    for (let i = 0; i < probe; i++) x = (x * 31 + i) % 1_000_003;
    if (x < 0) throw new Error("unreachable");
    best = Math.min(best, performance.now() - start);
  }
  return Math.round((probe * ms) / best);
}
