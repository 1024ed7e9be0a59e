/** A header schema's key as the header it reads: `userAgent` and `user_agent` → `user-agent`. */
export function headerName(key: string): string {
  return key
    .replace(/[A-Z]/g, (c) => `-${c}`)
    .replace(/_/g, "-")
    .toLowerCase();
}
