// Prometheus metrics of WebSocket sessions, on the server's own registry beside the request
// metrics: open connections, sessions by close code, how long they lasted, messages each way.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface EndedSession {
  /** The route's path pattern ("/ws/rooms/:room"). */
  route: string;
  closeCode: number;
  durationMs: number;
}

/** Sessions last from milliseconds (a probe) to hours (a dashboard left open). */
const sessionBuckets = [0.1, 1, 10, 60, 300, 1800, 3600, 14400];

export class WebSocketMetrics {
  private readonly open: Gauge<"route">;
  private readonly sessions: Counter<"route" | "close_code">;
  private readonly duration: Histogram<"route">;
  private readonly messages: Counter<"route" | "direction">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.open = new Gauge({ name: "loopwise_websockets_open", help: "WebSocket connections open now, by route.", labelNames: ["route"], registers });
    this.sessions = new Counter({
      name: "loopwise_websocket_sessions_total",
      help: "WebSocket sessions that ended, by route and close code (1006: the peer vanished).",
      labelNames: ["route", "close_code"],
      registers,
    });
    this.duration = new Histogram({
      name: "loopwise_websocket_session_duration_seconds",
      help: "How long WebSocket sessions lasted, from the handshake to the close.",
      labelNames: ["route"],
      buckets: sessionBuckets,
      registers,
    });
    this.messages = new Counter({
      name: "loopwise_websocket_messages_total",
      help: "WebSocket messages, by route and direction (received, sent), counted when each session ends.",
      labelNames: ["route", "direction"],
      registers,
    });
  }

  opened(route: string): void {
    this.open.inc({ route });
  }

  ended(session: EndedSession, received: number, sent: number): void {
    const { route } = session;
    this.open.dec({ route });
    this.sessions.inc({ route, close_code: String(session.closeCode) });
    this.duration.observe({ route }, session.durationMs / 1000);
    if (received > 0) this.messages.inc({ route, direction: "received" }, received);
    if (sent > 0) this.messages.inc({ route, direction: "sent" }, sent);
  }
}
