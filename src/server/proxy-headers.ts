// Who is really on the other end of a request behind a reverse proxy (uvicorn's --proxy-headers):
// the client address from X-Forwarded-For and the scheme from X-Forwarded-Proto, believed only
// when the connection comes from a proxy the server was told to trust.
import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";
import type { Peer, Scheme } from "../http/request.js";

/**
 * The proxies whose forwarding headers are believed: addresses, CIDR ranges, or `*` for any.
 *
 *     TrustedProxies.parse("127.0.0.1, 10.0.0.0/8, fd00::/8").trusts("10.1.2.3")  // true
 */
export class TrustedProxies {
  private constructor(
    private readonly list: BlockList,
    /** `*`: every peer and every hop is trusted. */
    readonly all: boolean,
  ) {}

  /** Throws a RangeError naming the first entry that is not an address, a range or `*`. */
  static parse(spec: string | readonly string[]): TrustedProxies {
    const entries = (typeof spec === "string" ? spec.split(",") : spec).map((entry) => entry.trim()).filter((entry) => entry !== "");
    const list = new BlockList();
    let all = false;
    for (const entry of entries) {
      if (entry === "*") all = true;
      else if (!addEntry(list, entry))
        throw new RangeError(`forwardedAllowIps: "${entry}" is not an IP address, a CIDR range such as 10.0.0.0/8, or "*"`);
    }
    return new TrustedProxies(list, all);
  }

  /**
   * Answers by address, remembered: BlockList takes microseconds per check, and the addresses
   * asked about are mostly the same few proxies. Bounded, so varied forged hops cannot grow it.
   */
  private readonly known = new Map<string, boolean>();

  /** Whether `address` (a bare IPv4 or IPv6 address) is a trusted proxy. */
  trusts(address: string): boolean {
    if (this.all) return true;
    let trusted = this.known.get(address);
    if (trusted === undefined) {
      const family = isIP(address);
      // BlockList matches an IPv4-mapped IPv6 address (::ffff:127.0.0.1) against the IPv4 rules too.
      trusted = family !== 0 && this.list.check(address, family === 4 ? "ipv4" : "ipv6");
      if (this.known.size >= 1024) this.known.clear();
      this.known.set(address, trusted);
    }
    return trusted;
  }
}

function addEntry(list: BlockList, entry: string): boolean {
  const slash = entry.indexOf("/");
  const address = slash < 0 ? entry : entry.slice(0, slash);
  const family = isIP(address);
  if (family === 0) return false;
  const type = family === 4 ? "ipv4" : "ipv6";
  if (slash < 0) {
    list.addAddress(address, type);
    return true;
  }
  const prefix = entry.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128)) return false;
  list.addSubnet(address, Number(prefix), type);
  return true;
}

/** The address of the connection's far end: `ip:port`, or nginx's `unix:` for a Unix socket. */
export function socketPeer(req: IncomingMessage, scheme: Scheme): Peer {
  // Every request on a keep-alive connection comes from the same peer: read and formatted once.
  const socket = req.socket as IncomingMessage["socket"] & { [peerKey]?: Peer };
  const known = socket[peerKey];
  if (known !== undefined && known.scheme === scheme) return known;
  const { remoteAddress, remotePort } = socket;
  const peer: Peer = { client: remoteAddress === undefined ? "unix:" : `${remoteAddress}:${remotePort}`, scheme };
  // A socket already closed knows its address no more: nothing to keep.
  if (remoteAddress !== undefined) socket[peerKey] = peer;
  return peer;
}

const peerKey = Symbol("loopwise.peer");

/**
 * The request's real client and scheme when its connection comes from a trusted proxy, else the
 * connection's own. A peer on a Unix socket is a process on this machine allowed to open the
 * socket file: it counts as trusted, as 127.0.0.1 does.
 */
export function forwardedPeer(req: IncomingMessage, scheme: Scheme, trusted: TrustedProxies): Peer {
  const direct = socketPeer(req, scheme);
  const from = req.socket.remoteAddress;
  if (from !== undefined && !trusted.trusts(from)) return direct;
  const forwardedFor = req.headers["x-forwarded-for"];
  const client = typeof forwardedFor === "string" ? forwardedClient(forwardedFor, trusted) : undefined;
  const proto = req.headers["x-forwarded-proto"];
  return {
    // The proxy gives no port; 0 says so, as uvicorn does.
    client: client === undefined ? direct.client : `${client}:0`,
    scheme: typeof proto === "string" ? (forwardedScheme(proto) ?? scheme) : scheme,
  };
}

/**
 * Each proxy appends the address it got the request from, so the header is read from the right:
 * trusted hops are skipped, and the first address that is not a trusted proxy is the client.
 * Anything left of it could have been written by that client and is ignored. A hop that is not
 * an address stops the walk: the client is then the last hop that could be read (undefined when
 * that is the connection's own peer). With `*`, the leftmost address.
 */
export function forwardedClient(header: string, trusted: TrustedProxies): string | undefined {
  const hops = header.split(",");
  let client: string | undefined;
  for (let i = hops.length - 1; i >= 0; i--) {
    const address = hopAddress(hops[i]!);
    if (address === undefined) break;
    client = address;
    if (!trusted.trusts(address)) break;
  }
  return client;
}

/** A hop's bare address: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443`; else undefined. */
function hopAddress(hop: string): string | undefined {
  const text = hop.trim();
  // A zone (fe80::1%eth0) names an interface of the proxy's machine, not a client.
  if (text.includes("%")) return undefined;
  const bracketed = /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) return isIP(bracketed[1]!) === 6 && validPort(bracketed[2]) ? bracketed[1] : undefined;
  const withPort = /^([\d.]+):(\d{1,5})$/.exec(text);
  if (withPort) return isIP(withPort[1]!) === 4 && validPort(withPort[2]) ? withPort[1] : undefined;
  return isIP(text) !== 0 ? text : undefined;
}

const validPort = (port: string | undefined) => port === undefined || Number(port) <= 65535;

/** One value, as a proxy sets it (`proxy_set_header X-Forwarded-Proto $scheme`); a list or anything else is ignored. */
function forwardedScheme(value: string): Scheme | undefined {
  switch (value.trim().toLowerCase()) {
    case "https":
    case "wss":
      return "https";
    case "http":
    case "ws":
      return "http";
    default:
      return undefined;
  }
}
