// Entry point: who is logged in decides the screen (login, agent desktop, supervisor monitor);
// one live channel per tab feeds whichever screen is shown.

import { ApiError, get, post } from "./api.js";
import { $, fill, h, toast } from "./dom.js";
import { LiveChannel } from "./live.js";
import { showLogin } from "./login.js";
import { AgentDesktop } from "./agent.js";
import { SupervisorMonitor } from "./supervisor.js";
import { observeServerTime, startTicker } from "./time.js";

const LINK_TEXT = { connecting: "connecting…", open: "live", retrying: "reconnecting…", closed: "offline" };

/** The banner both screens show while callserver has no link to the PBX (calls cannot be handled). */
function showPbxLink(link) {
  if (!link) return;
  const banner = $("#pbx-banner");
  banner.hidden = link.up;
  document.body.dataset.pbx = link.up ? "up" : "down";
  fill(banner, link.up ? "" : "Telephone system unreachable: calls cannot be offered or controlled until it is back.");
  banner.title = link.up ? "" : link.reason || "";
}
let live = null;

async function boot() {
  const app = $("#app");
  let me;
  try {
    me = await get("/api/me");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      showLogin(app, boot);
      return;
    }
    fill(app);
    toast(err.message);
    return;
  }
  fill($("#who"), `${me.name} · ${me.role}`);
  if (me.role === "admin") $("#who").append(" · ", h("a", { href: "/ui/editor/index.html", id: "editor-link", class: "topbar-link" }, "Script editor"));
  const logout = $("#logout");
  logout.hidden = false;
  logout.onclick = signOut;
  const view = me.role === "agent" ? new AgentDesktop(app, me) : new SupervisorMonitor(app, me);
  document.body.dataset.role = me.role;
  startTicker(app);
  live = new LiveChannel({
    onMessage: (type, data) => {
      if (data && typeof data.at === "number") observeServerTime(data.at);
      if (type === "ping") observeServerTime(data.t);
      if (type === "error") console.warn("live channel:", data.code, data.message);
      if (type === "snapshot") showPbxLink(data.pbx_link);
      if (type === "pbx.link") showPbxLink(data);
      view.apply(type, data);
    },
    onLink: (state) => {
      const link = $("#link");
      link.dataset.state = state;
      link.textContent = LINK_TEXT[state] || state;
    },
    onRefused: async () => {
      // the upgrade is refused with 401 once the session has expired: back to the login form
      try {
        await get("/api/me");
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) location.reload();
      }
    },
    onEnd: (code) => {
      if (code === 4401) location.reload();
      else toast("This tab was disconnected: the page is open elsewhere. Reload to continue here.");
    },
  });
  window.callserverLive = live; // for the browser tests and the developer console
  live.connect();
}

async function signOut() {
  // an agent logging out of the desktop is logged out of their queues too; on a call, ask first
  try {
    await post("/api/logout");
  } catch (err) {
    if (err instanceof ApiError && err.status === 409 && err.body && err.body.on_call) {
      if (!confirm("You are on a call. Log out of your queues anyway? The call goes on.")) return;
      try {
        await post("/api/logout", { force: true });
      } catch (again) {
        toast(again.message);
        return;
      }
    } else {
      toast(err.message);
    }
  }
  if (live) live.stop();
  location.reload();
}

boot();
