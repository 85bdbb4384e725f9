// Entry point: who is logged in decides the screen (login, agent desktop, supervisor monitor);
// one live channel per tab feeds whichever screen is shown.

import { ApiError, get, post } from "./api.js";
import { $, fill, toast } from "./dom.js";
import { LiveChannel } from "./live.js";
import { showLogin } from "./login.js";
import { AgentDesktop } from "./agent.js";
import { SupervisorMonitor } from "./supervisor.js";
import { CampaignDesk } from "./campaign_agent.js";
import { CampaignMonitor } from "./campaign_supervisor.js";
import { observeServerTime, startTicker } from "./time.js";

const LINK_TEXT = { connecting: "connecting…", open: "live", retrying: "reconnecting…", closed: "offline" };
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
  const logout = $("#logout");
  logout.hidden = false;
  logout.onclick = signOut;
  const view = me.role === "agent" ? new AgentDesktop(app, me) : new SupervisorMonitor(app, me);
  const outbound = me.role === "agent" ? new CampaignDesk(app, me) : new CampaignMonitor(app, me);
  document.body.dataset.role = me.role;
  startTicker(app);
  live = new LiveChannel({
    onMessage: (type, data) => {
      if (data && typeof data.at === "number") observeServerTime(data.at);
      if (type === "ping") observeServerTime(data.t);
      if (type === "error") console.warn("live channel:", data.code, data.message);
      view.apply(type, data);
      outbound.apply(type, data);
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
  try {
    await post("/api/logout");
  } catch (err) {
    toast(err.message);
  }
  if (live) live.stop();
  location.reload();
}

boot();
