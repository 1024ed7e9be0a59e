// CPU work that holds a thread for `ms`: the stand-in for hashing, image or PDF work.
export function burnCpu(ms: number): number {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 10_000; i++) x = (x * 31 + i) % 1_000_003;
  }
  return x;
}
