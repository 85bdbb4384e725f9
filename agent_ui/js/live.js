// The live channel: one websocket per tab to /api/live. Keeps the stream id from `hello` and the
// highest `seq` processed; after a drop it reconnects with backoff and resumes from there, so a
// screen-pop sent while the link was down is replayed, or arrives inside a fresh `snapshot`.
// Heartbeats are the server's job: the page only answers `ping` with `pong`.

const CONTROL = new Set(["hello", "ping", "error"]);
const NO_RETRY = new Set([4001, 4008, 4401, 1008]); // replaced, too many tabs, logged out, policy

export class LiveChannel {
  /**
   * onMessage(type, data, message) gets every stream message in order, once;
   * onLink(state) gets "connecting" | "open" | "retrying" | "closed";
   * onEnd(code) is called when the server ends the session for good (logout, replaced);
   * onRefused() when a connection closes before its `hello` (the session may have expired).
   */
  constructor({ onMessage, onLink = () => {}, onEnd = () => {}, onRefused = () => {} }) {
    this.onMessage = onMessage;
    this.onLink = onLink;
    this.onEnd = onEnd;
    this.onRefused = onRefused;
    this.greeted = false;
    this.stream = null;
    this.lastSeq = -1;
    this.attempt = 0;
    this.ws = null;
    this.stopped = false;
    this.retryTimer = null;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let url = `${scheme}//${location.host}/api/live`;
    if (this.stream !== null && this.lastSeq >= 0) {
      url += `?resume=${encodeURIComponent(this.stream)}&last_seq=${this.lastSeq}`;
    }
    return url;
  }

  connect() {
    if (this.stopped) return;
    this.onLink(this.attempt ? "retrying" : "connecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    this.greeted = false;
    ws.addEventListener("message", (event) => this.receive(event.data));
    ws.addEventListener("close", (event) => this.closed(ws, event.code));
  }

  receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (!msg || typeof msg.type !== "string") return;
    if (msg.type === "ping") {
      this.send({ type: "pong", data: {} });
      this.onMessage("ping", msg.data || {}, msg);
      return;
    }
    if (msg.type === "hello") {
      this.attempt = 0;
      this.greeted = true;
      this.stream = msg.data.stream;
      // not resumed: a snapshot follows and numbering restarts from the hello's seq
      if (!msg.data.resumed) this.lastSeq = msg.seq;
      this.onLink("open");
      this.onMessage("hello", msg.data, msg);
      return;
    }
    if (CONTROL.has(msg.type)) {
      this.onMessage(msg.type, msg.data || {}, msg);
      return;
    }
    if (typeof msg.seq === "number") {
      if (msg.seq <= this.lastSeq) return; // already processed (replay overlap)
      this.lastSeq = msg.seq;
    }
    try {
      this.onMessage(msg.type, msg.data || {}, msg);
    } catch (err) {
      console.error("live message handler failed", msg.type, err);
    }
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    this.ws = null;
    if (this.stopped) return;
    if (!this.greeted) this.onRefused();
    if (NO_RETRY.has(code)) {
      this.stopped = true;
      this.onLink("closed");
      this.onEnd(code);
      return;
    }
    // 0.5 s, 1 s, 2 s ... up to 15 s, with jitter so a restarted server is not stormed
    const base = Math.min(15000, 500 * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2);
    this.attempt += 1;
    this.onLink("retrying");
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Drop the socket now (tests, network change); the normal resume path takes over. */
  reconnectNow() {
    if (this.ws) this.ws.close(4000, "client reconnect");
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    if (this.ws) this.ws.close(1000, "bye");
    this.ws = null;
  }
}
