// The wrap-up form: the outcome codes of the call's queue (required or not), a note, a visible
// countdown to the end of wrap-up, "More time" (up to the queue's maximum) and "Save" (ends it
// early). What is chosen and typed is sent to the server as a draft while the agent works, so
// when the time runs out the server saves it: nothing typed is ever lost.

import { get, post } from "./api.js";
import { h, fill, select, toast } from "./dom.js";
import { duration, label, serverNow } from "./time.js";

const DRAFT_DELAY = 400; // ms after the last keystroke before the draft goes to the server
const MORE_TIME = 30; // seconds per "More time" click

export class WrapupForm {
  constructor(root, { agentId, onDone }) {
    this.root = root;
    this.agentId = agentId;
    this.onDone = onDone; // () after the form was saved and the wrap-up ended
    this.callId = null;
    this.until = null; // end of wrap-up (server time), null: not counting (no wrap-up time)
    this.limit = null;
    this.codes = null; // {list, required, codes: [{code, label}]}
    this.preset = "";
    this.timer = null;
    this.draftTimer = null;
    this.root.hidden = true;
  }

  /** Show the form for `callId` (again: keeps what was typed). */
  async open(callId, { until = null, limit = null, preset = "", draft = null } = {}) {
    if (until !== null) this.until = until;
    if (limit !== null) this.limit = limit;
    if (this.callId === callId) {
      this.tick();
      return;
    }
    this.callId = callId;
    this.preset = preset;
    this.codes = null;
    this.render(draft);
    this.root.hidden = false;
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), 250);
    try {
      const codes = await get(`/api/outcomes?call_id=${encodeURIComponent(callId)}`);
      if (this.callId !== callId) return;
      this.codes = codes;
      this.fillCodes();
    } catch (err) {
      toast(err.message);
    }
  }

  /** Choose `code` unless the agent chose something already (a voicemail closed with it). */
  preselect(code) {
    if (this.outcome.value) return;
    this.pendingCode = code;
    this.outcome.value = code;
    this.draftSoon();
  }

  extended(until) {
    this.until = until;
    this.tick();
  }

  close() {
    clearInterval(this.timer);
    clearTimeout(this.draftTimer);
    this.callId = null;
    this.until = this.limit = null;
    this.root.hidden = true;
    this.root.replaceChildren();
  }

  render(draft) {
    this.outcome = select({ name: "outcome", id: "wrapup-outcome" }, [["", "Choose an outcome…"]], "");
    this.note = h("textarea", { name: "note", id: "wrapup-note", rows: 3, maxlength: 2000, placeholder: "What was agreed, what to follow up" });
    if (draft) this.note.value = draft.note || "";
    this.pendingCode = (draft && draft.code) || this.preset || "";
    this.countdown = h("span", { class: "countdown", id: "wrapup-countdown", "aria-live": "off" });
    this.more = h("button", { type: "button", id: "wrapup-more", onclick: () => this.moreTime() }, `More time (+${MORE_TIME} s)`);
    this.requiredMark = h("span", { class: "muted small-text", id: "wrapup-required" });
    for (const el of [this.outcome, this.note]) {
      el.addEventListener("input", () => this.draftSoon());
      el.addEventListener("change", () => this.draftSoon());
    }
    const form = h(
      "form",
      { onsubmit: (e) => this.submit(e) },
      h("div", { class: "controls-head" }, h("h2", {}, "Wrap-up"), this.countdown),
      h(
        "div",
        { class: "form-grid" },
        h("label", { for: "wrapup-outcome" }, "Outcome ", this.requiredMark),
        this.outcome,
        h("label", { for: "wrapup-note" }, "Note"),
        this.note,
      ),
      h("div", { class: "actions button-row" }, h("button", { type: "submit", class: "primary", id: "wrapup-submit" }, "Save wrap-up"), this.more),
    );
    fill(this.root, form);
    this.tick();
  }

  fillCodes() {
    const chosen = this.outcome.value || this.pendingCode;
    const options = [["", "Choose an outcome…"], ...this.codes.codes.map((c) => [c.code, c.label || label(c.code)])];
    const fresh = select({ name: "outcome", id: "wrapup-outcome", "aria-required": String(this.codes.required) }, options, chosen);
    for (const kind of ["input", "change"]) fresh.addEventListener(kind, () => this.draftSoon());
    this.outcome.replaceWith(fresh);
    this.outcome = fresh;
    this.requiredMark.textContent = this.codes.required ? "(required)" : "";
    if (chosen) this.draftSoon();
  }

  tick() {
    if (!this.countdown) return;
    if (this.until === null) {
      this.countdown.textContent = "";
      this.more.hidden = true;
      return;
    }
    const left = Math.max(0, this.until - serverNow());
    this.countdown.textContent = `${duration(Math.ceil(left))} left`;
    this.countdown.dataset.left = String(Math.ceil(left));
    this.countdown.classList.toggle("urgent", left <= 10);
    this.more.hidden = false;
    this.more.disabled = this.limit !== null && this.until >= this.limit - 0.5;
  }

  draftSoon() {
    clearTimeout(this.draftTimer);
    const callId = this.callId;
    this.draftTimer = setTimeout(() => this.sendDraft(callId), DRAFT_DELAY);
  }

  async sendDraft(callId) {
    if (!callId || callId !== this.callId) return;
    try {
      await post(`/api/calls/${encodeURIComponent(callId)}/wrapup/draft`, { outcome: this.outcome.value, note: this.note.value });
      this.root.dataset.draft = "saved";
    } catch (err) {
      if (err.status !== 409) toast(err.message); // 409: the wrap-up is over, the server saved it
    }
  }

  async moreTime() {
    try {
      const data = await post(`/api/agents/${encodeURIComponent(this.agentId)}/wrapup/extend`, { seconds: MORE_TIME });
      this.limit = data.limit;
      this.extended(data.until);
    } catch (err) {
      toast(err.message);
    }
  }

  async submit(event) {
    event.preventDefault();
    if (this.codes && this.codes.required && !this.outcome.value) return toast("Choose an outcome: this queue requires one");
    if (!this.outcome.value) return toast("Choose an outcome");
    const callId = this.callId;
    clearTimeout(this.draftTimer);
    this.submitting = callId;
    try {
      await post(`/api/calls/${encodeURIComponent(callId)}/wrapup`, { outcome: this.outcome.value, note: this.note.value });
      toast("Wrap-up saved", "ok");
      if (this.callId === callId) this.close();
      if (this.onDone) this.onDone();
    } catch (err) {
      toast(err.message);
    } finally {
      this.submitting = null;
    }
  }

  /** The wrap-up ended on the server (time ran out): the server saved the draft; the form goes. */
  async ended(callId) {
    if (callId !== null && callId !== this.callId) return;
    if (this.submitting && this.submitting === this.callId) return; // ended by the form being sent
    clearTimeout(this.draftTimer);
    if (this.callId) await this.sendDraft(this.callId); // a keystroke not yet sent: the server may still take it
    if (this.callId) toast("Wrap-up time is over: what you chose and typed was saved", "ok");
    this.close();
  }
}
