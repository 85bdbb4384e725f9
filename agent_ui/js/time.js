// Time on the page: the server's clock (estimated from message timestamps, so timers agree with
// the server even when the desk PC's clock is off) and durations as people read them.

let skew = 0; // server time minus browser time, seconds
let observed = false;

/** Note a timestamp the server just sent (a live event's `at`, a ping's `t`). */
export function observeServerTime(t) {
  if (typeof t !== "number") return;
  const estimate = t - Date.now() / 1000;
  // events can be a little old when they arrive; keep the largest recent estimate
  if (!observed || estimate > skew || Math.abs(estimate - skew) > 5) skew = estimate;
  observed = true;
}

export function serverNow() {
  return Date.now() / 1000 + skew;
}

/** 75 -> "1:15", 3725 -> "1:02:05". */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/** An ISO date or Unix seconds as "14:03" today or "12 Nov 14:03" otherwise. */
export function when(value) {
  const d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (d.toDateString() === new Date().toDateString()) return time;
  return `${d.toLocaleDateString([], { day: "numeric", month: "short" })} ${time}`;
}

/** A live "time since" span, filled now and refreshed by the ticker. */
export function sinceSpan(at, attrs = {}) {
  const span = document.createElement("span");
  span.className = attrs.class || "timer";
  span.dataset.since = String(at);
  span.textContent = duration(serverNow() - at);
  return span;
}

/** Refresh every [data-since] element once a second: a display timer, nothing depends on it. */
export function startTicker(root) {
  const tick = () => {
    const now = serverNow();
    for (const node of root.querySelectorAll("[data-since]")) {
      node.textContent = duration(now - Number(node.dataset.since));
    }
  };
  tick();
  return setInterval(tick, 1000);
}

export const LABELS = {
  idle: "Idle",
  ringing: "Ringing",
  on_call: "On call",
  wrapup: "Wrap-up",
  available: "Available",
  paused: "Paused",
  logged_out: "Logged out",
  answered: "Answered",
  abandoned: "Abandoned",
  timed_out: "Timed out",
  failed: "Failed",
};

export function label(value) {
  if (LABELS[value]) return LABELS[value];
  const text = String(value).replaceAll("_", " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}
