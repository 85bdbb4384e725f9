// The login form: POST /api/login sets the session cookie, then the page boots again.

import { post } from "./api.js";
import { h, fill } from "./dom.js";

export function showLogin(app, onDone) {
  const error = h("p", { class: "form-error", role: "alert" });
  const login = h("input", { name: "login", id: "login", autocomplete: "username", required: true });
  const password = h("input", {
    name: "password",
    id: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const button = h("button", { type: "submit", class: "primary" }, "Log in");
  const form = h(
    "form",
    { class: "login card", onsubmit: submit },
    h("h1", {}, "Sign in"),
    h("label", { for: "login" }, "Login"),
    login,
    h("label", { for: "password" }, "Password"),
    password,
    error,
    button,
  );
  async function submit(event) {
    event.preventDefault();
    button.disabled = true;
    error.textContent = "";
    try {
      await post("/api/login", { login: login.value.trim(), password: password.value });
      password.value = "";
      onDone();
    } catch (err) {
      error.textContent = err.message;
      button.disabled = false;
      password.select();
    }
  }
  fill(app, h("div", { class: "login-wrap" }, form));
  login.focus();
}
