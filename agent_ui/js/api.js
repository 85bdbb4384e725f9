// REST calls to the server: JSON in and out, the anti-CSRF header on every request, and errors
// turned into exceptions whose message is what the server said.

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export async function api(method, path, body) {
  const init = { method, headers: { "X-Callserver": "1" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch {
    throw new ApiError(0, "the server cannot be reached");
  }
  let data = null;
  const text = await resp.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!resp.ok) {
    let message = (data && data.error) || `${resp.status} ${resp.statusText}`;
    if (data && Array.isArray(data.problems) && data.problems.length) {
      message += ": " + data.problems.join("; ");
    }
    if (resp.status === 404 && !(data && data.error)) message = `not available on this server (${path})`;
    throw new ApiError(resp.status, message, data);
  }
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body = {}) => api("POST", path, body);
export const put = (path, body) => api("PUT", path, body);
