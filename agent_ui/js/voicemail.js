// Voicemail on the agent desktop: the card for the voicemail task being worked (caller, when the
// message was left, the recording, call back, close with an outcome) and the small "My voicemails"
// list with the message-waiting count. A voicemail task arrives like a call whose id is `vm-<id>`.
//
// The card keeps its <audio> element for as long as the same message is shown: re-rendering the
// rest of the card never interrupts playback.

import { get, post } from "./api.js";
import { h, fill, select, toast } from "./dom.js";
import { duration, label, serverNow, sinceSpan, when } from "./time.js";

/** `vm-12` -> 12; anything else -> null. */
export function voicemailIdOf(callId) {
  const m = /^vm-(\d+)$/.exec(String(callId || ""));
  return m ? Number(m[1]) : null;
}

/** A voicemail's recorded_at as Unix seconds (for the ticking "ago" timers). */
export function recordedAt(vm) {
  const t = Date.parse(vm.recorded_at);
  return Number.isNaN(t) ? serverNow() - (vm.age || 0) : t / 1000;
}

export class VoicemailDesk {
  /** root: the card shown while working a message; listRoot: "My voicemails" (side panel). */
  constructor(root, listRoot, { outcomes, onClosed }) {
    this.root = root;
    this.listRoot = listRoot;
    this.outcomes = outcomes; // () => [[code, label], ...]
    this.onClosed = onClosed; // (callId, outcome) after a successful close
    this.items = []; // GET /api/voicemails (mine)
    this.waiting = null; // messages in my own box nobody has taken (voicemail.waiting)
    this.current = null; // voicemail id being worked (the offered task)
    this.loading = null;
    this.again = false;
    this.audio = null;
    this.build();
    this.refresh();
  }

  build() {
    this.count = h("span", { class: "badge mwi", id: "vm-waiting", title: "Messages waiting in my mailbox", hidden: true });
    this.list = h("ul", { class: "vm-list", id: "my-voicemails-list" });
    fill(
      this.listRoot,
      h("div", { class: "card-head" }, h("h2", {}, "My voicemails"), this.count),
      this.list,
    );
    this.head = h("div", { class: "controls-head" });
    this.player = h("div", { class: "vm-player" });
    this.info = h("dl", { class: "fields vm-info" });
    this.actions = h("div", { class: "vm-actions" });
    fill(this.root, this.head, this.info, this.player, this.actions);
    this.root.hidden = true;
    this.renderList();
  }

  // -- data -------------------------------------------------------------------------------

  /** Reload my voicemails; calls made while a load is running are folded into one more load. */
  async refresh() {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        const data = await get("/api/voicemails");
        this.items = (data && data.voicemails) || [];
      } catch (err) {
        if (err.status !== 404) toast(err.message);
      }
    })();
    await this.loading;
    this.loading = null;
    if (this.again) {
      this.again = false;
      return this.refresh();
    }
    this.renderList();
    this.renderCard();
    this.retryMissing();
  }

  /** The task is offered a moment before its row says it is mine (the server assigns it just
   *  after the offer, and tells agents nothing more): look again a few times, backing off. */
  retryMissing() {
    const id = this.current;
    if (id === null || this.find(id)) {
      this.tries = 0;
      return;
    }
    if ((this.tries = (this.tries || 0) + 1) > 6) return;
    setTimeout(() => {
      if (this.current === id && !this.find(id)) this.refresh();
    }, 250 * 2 ** (this.tries - 1));
  }

  find(id) {
    return this.items.find((v) => v.id === id) || null;
  }

  /** A voicemail.waiting message: only my own box (`agent:<me>`) reaches an agent. */
  onWaiting(d) {
    this.waiting = d.new;
    this.refresh();
  }

  /** The task offered / answered / ended: which message the card shows. */
  work(callId) {
    const id = voicemailIdOf(callId);
    if (id === this.current) return;
    this.current = id;
    this.tries = 0;
    if (this.audio) {
      this.audio.pause();
      this.audio = null;
    }
    this.player.replaceChildren();
    this.renderCard();
    if (id !== null) this.refresh();
  }

  // -- rendering --------------------------------------------------------------------------

  renderList() {
    this.count.hidden = this.waiting === null;
    this.count.textContent = `${this.waiting ?? 0} waiting`;
    const rows = this.items
      .slice()
      .sort((a, b) => recordedAt(a) - recordedAt(b))
      .map((vm) =>
        h(
          "li",
          { dataset: { voicemail: String(vm.id), status: vm.status }, class: vm.id === this.current ? "current" : "" },
          h("strong", {}, vm.caller_num || "withheld"),
          vm.caller_name ? h("span", { class: "muted" }, ` ${vm.caller_name}`) : null,
          h("span", { class: "muted small-text" }, ` · ${label(vm.status)} · left `, sinceSpan(recordedAt(vm)), " ago"),
        ),
      );
    if (rows.length) fill(this.list, rows);
    else fill(this.list, h("li", { class: "muted" }, "No voicemail for you."));
  }

  renderCard() {
    const id = this.current;
    this.root.hidden = id === null;
    if (id === null) return;
    this.root.dataset.voicemail = String(id);
    const vm = this.find(id);
    fill(
      this.head,
      h("h2", {}, "Voicemail"),
      vm ? h("span", { class: `badge vm-status ${vm.status}`, id: "vm-status" }, label(vm.status)) : null,
    );
    if (!this.audio) this.player.appendChild(this.makeAudio(id, vm));
    if (!vm) {
      fill(this.info, h("dt", {}, "Message"), h("dd", { class: "muted" }, `#${id} (loading…)`));
      this.actions.replaceChildren();
      return;
    }
    const left = recordedAt(vm);
    fill(
      this.info,
      h("dt", {}, "Caller"),
      h("dd", { id: "vm-caller" }, h("strong", {}, vm.caller_num || "withheld"), vm.caller_name ? ` · ${vm.caller_name}` : ""),
      h("dt", {}, "Left"),
      h("dd", { id: "vm-left" }, when(left), " · ", sinceSpan(left), " ago"),
      h("dt", {}, "Length"),
      h("dd", { id: "vm-length" }, this.lengthOf(vm)),
      h("dt", {}, "Mailbox"),
      h("dd", {}, vm.box),
      vm.callback_call_id ? [h("dt", {}, "Call back"), h("dd", { id: "vm-callback", class: "mono" }, vm.callback_call_id)] : null,
    );
    const outcome = select({ name: "outcome", id: "vm-outcome", required: true, "aria-label": "Voicemail outcome" }, [["", "Choose an outcome…"], ...this.outcomes()], "");
    const canCall = vm.status === "assigned" && Boolean(vm.caller_num);
    fill(
      this.actions,
      h(
        "div",
        { class: "button-row" },
        h("button", { type: "button", class: "primary", id: "vm-callback-btn", disabled: !canCall, onclick: () => this.callback(vm) }, vm.status === "in_progress" ? "Calling back…" : "Call back"),
      ),
      h(
        "form",
        { class: "transfer", id: "vm-close-form", onsubmit: (e) => this.close(e, vm, outcome) },
        h("label", { for: "vm-outcome", class: "muted" }, "Close with"),
        outcome,
        h("button", { type: "submit", id: "vm-close-btn" }, "Close voicemail"),
      ),
    );
  }

  /** The measured length, else what the player found once it loaded the recording. */
  lengthOf(vm) {
    if (typeof vm.duration === "number") return duration(vm.duration);
    const heard = this.audio && this.audio.duration;
    return Number.isFinite(heard) ? duration(heard) : "—";
  }

  makeAudio(id, vm) {
    const note = h("span", { class: "muted small-text vm-audio-note" });
    const audio = h("audio", { controls: true, preload: "metadata", id: "vm-audio", src: `/api/voicemails/${id}/audio` });
    audio.addEventListener("error", () => {
      note.textContent = vm && vm.has_audio === false ? "Nothing was recorded." : "The recording cannot be played yet.";
    });
    audio.addEventListener("loadedmetadata", () => {
      note.textContent = "";
      if (this.audio === audio) this.renderCard();
    });
    this.audio = audio;
    return h("div", { class: "vm-audio" }, audio, note);
  }

  // -- actions ----------------------------------------------------------------------------

  async callback(vm) {
    try {
      const updated = await post(`/api/voicemails/${vm.id}/callback`);
      this.items = this.items.map((v) => (v.id === vm.id ? updated : v));
      toast(`Calling ${updated.caller_num} back: your phone rings first`, "ok");
    } catch (err) {
      toast(err.message);
    }
    this.renderCard();
    this.renderList();
  }

  async close(event, vm, outcome) {
    event.preventDefault();
    if (!outcome.value) return toast("Choose an outcome");
    try {
      await post(`/api/voicemails/${vm.id}/close`, { outcome: outcome.value });
      toast("Voicemail closed", "ok");
      this.items = this.items.filter((v) => v.id !== vm.id);
      const callId = `vm-${vm.id}`;
      if (this.current === vm.id) this.work(null);
      if (this.onClosed) this.onClosed(callId, outcome.value);
    } catch (err) {
      toast(err.message);
    }
    this.renderList();
    this.refresh();
  }
}
