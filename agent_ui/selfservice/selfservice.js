// The public self-service page: a customer runs a dialogue script with no agent. It asks the
// server for everything (the server checks every answer); it keeps the page's CSRF token in memory
// only; after each move the new step's heading takes the focus so a screen reader reads it.

import { h, fill } from "/ui/js/dom.js";
import { questionField, stepTexts } from "/ui/js/scriptform.js";

const scriptId = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const base = `/self/api/${encodeURIComponent(scriptId)}`;
const main = document.getElementById("main");
const status = document.getElementById("status");
let csrf = null;
let info = null;

async function call(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(base + path, init);
  } catch {
    return { ok: false, status: 0, data: { error: "The service cannot be reached: check your connection." } };
  }
  let data = {};
  try {
    data = await resp.json();
  } catch {
    data = {};
  }
  return { ok: resp.ok, status: resp.status, data };
}

function announce(text) {
  status.textContent = "";
  setTimeout(() => (status.textContent = text), 50);
}

function heading(text) {
  const node = h("h1", { tabindex: "-1", id: "step-title" }, text);
  return node;
}

async function boot() {
  const got = await call("GET", "");
  if (!got.ok) {
    fill(main, heading("This page does not exist"), h("p", {}, got.data.error || ""));
    return;
  }
  info = got.data;
  document.title = info.title;
  document.documentElement.lang = info.language || "en";
  document.getElementById("script-title").textContent = info.title;
  if (info.identify === "anonymous") start({});
  else showIdentify();
}

function showIdentify(message = "") {
  const account = h("input", { id: "account", name: "account", type: "text", autocomplete: "off", required: true, inputmode: "text" });
  const factor = h("input", { id: "factor", name: "factor", type: "text", autocomplete: "off", required: true });
  const error = h("p", { class: "error", id: "identify-error", role: "alert" }, message);
  const anonymous =
    info.identify === "optional"
      ? h("button", { type: "button", id: "without", onclick: () => start({}) }, "Continue without identifying")
      : null;
  const form = h(
    "form",
    { id: "identify", "aria-describedby": "identify-error", onsubmit: (e) => (e.preventDefault(), start({ account: account.value, factor: factor.value })) },
    h("div", {}, h("label", { for: "account" }, "Account number"), account),
    h("div", {}, h("label", { for: "factor" }, info.factor_label || "Second detail"), factor),
    error,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "identify-submit" }, "Continue"), anonymous),
  );
  const title = heading(info.title);
  fill(main, title, info.description ? h("p", { class: "description" }, info.description) : null,
    h("p", {}, `To see your account, give your account number and ${String(info.factor_label || "second detail").toLowerCase()}.`), form);
  (message ? error : account).focus?.();
  if (message) account.focus();
}

async function start(body) {
  const got = await call("POST", "/start", body, { "X-Callserver-Self": "1" });
  if (!got.ok) {
    if (info.identify !== "anonymous" && (got.status === 400 || got.status === 401 || got.status === 429)) {
      showIdentify(got.data.error);
      return;
    }
    fill(main, heading("Sorry"), h("p", { role: "alert" }, got.data.error || "Something went wrong."));
    return;
  }
  csrf = got.data.csrf;
  render(got.data.page);
}

async function move(op, position, extra = {}) {
  const got = await call("POST", "/move", { op, position, ...extra }, { "X-Self-Token": csrf || "" });
  if (got.ok) {
    render(got.data.page);
    return null;
  }
  if (got.status === 409 && got.data.stale) {
    const now = await call("GET", "/page");
    if (now.ok) render(now.data.page, got.data.error);
    return null;
  }
  if (got.status === 410) {
    fill(main, heading("This page has expired"), h("p", {}, got.data.error),
      h("button", { type: "button", class: "primary", onclick: () => location.reload() }, "Start again"));
    return null;
  }
  return got.data.error || "Something went wrong: try again.";
}

function render(page, notice = "") {
  if (page.status !== "active") {
    const title = heading(page.status === "handed_off" ? "We will be in touch" : "Thank you");
    fill(main, title, h("div", { class: "done", id: "done" }, h("p", {}, page.message)));
    title.focus();
    announce(page.message);
    return;
  }
  const field = page.question ? questionField(page.question) : null;
  const error = h("p", { class: "error", id: "step-error", role: "alert" }, notice);
  const submit = h("button", { type: "submit", class: "primary", id: "next" }, page.ends ? "Finish" : "Next");
  const busy = (on) => main.querySelectorAll("button").forEach((b) => (b.disabled = on));
  const act = async (op, extra) => {
    busy(true);
    const problem = await move(op, page.position, extra);
    if (problem !== null) {
      busy(false);
      error.textContent = problem;
      if (field) field.focus();
    }
  };
  const form = h(
    "form",
    { id: "step", "aria-describedby": "step-error", onsubmit: (e) => (e.preventDefault(), act("next", field ? { value: field.value() } : {})) },
    stepTexts(page.texts),
    field ? field.node : null,
    error,
    h(
      "div",
      { class: "actions" },
      page.can_back ? h("button", { type: "button", id: "back", onclick: () => act("back") }, "Back") : null,
      submit,
    ),
  );
  let handoff = null;
  if (page.handoff_label) {
    const phone = page.needs_number
      ? h("div", {}, h("label", { for: "callback-number" }, "Your phone number, to call you back"),
        h("input", { id: "callback-number", type: "tel", autocomplete: "tel", inputmode: "tel" }))
      : null;
    handoff = h(
      "section",
      { class: "handoff", "aria-label": "Talk to a person" },
      phone,
      h("button", {
        type: "button",
        id: "talk",
        onclick: () => act("talk", { value: field ? field.value() : null, ...(phone ? { number: phone.querySelector("input").value } : {}) }),
      }, page.handoff_label),
    );
  }
  const title = heading(page.title || info.title);
  fill(main, title, form, handoff);
  title.focus();
  announce(page.title || "");
}

boot();
