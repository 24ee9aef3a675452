// Sending the queue: in order, one item at a time, each with the client id that makes the
// server idempotent (upload_id for patrols and files, client_id for reports), so a retry
// after a lost answer returns the first patrol or report instead of making a second one.

import * as store from "./store.js";

let token = null;
let running = null;

export function setToken(value) {
  token = value;
}

export function authHeaders() {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

function patrolForm(item) {
  const form = new FormData();
  const p = item.payload;
  form.append("file", new Blob([p.geojson], { type: "application/geo+json" }), p.filename);
  form.append("team_id", String(p.teamId));
  form.append("mode", p.mode);
  form.append("upload_id", item.clientId);
  if (p.members.length) form.append("members", p.members.join(","));
  if (p.title) form.append("title", p.title);
  return form;
}

function fileForm(item) {
  const form = new FormData();
  const p = item.payload;
  form.append("file", p.blob, p.filename);
  form.append("team_id", String(p.teamId));
  form.append("datum", p.datum);
  form.append("upload_id", item.clientId);
  return form;
}

function reportRequest(item) {
  const p = item.payload;
  if (p.photo) {
    const form = new FormData();
    form.append("file", p.photo, p.photoName || "photo.jpg");
    for (const key of ["category", "severity", "lon", "lat", "description"]) {
      if (p[key] !== null && p[key] !== undefined && p[key] !== "") form.append(key, String(p[key]));
    }
    form.append("client_id", item.clientId);
    if (p.reportedAt) form.append("reported_at", p.reportedAt);
    return ["/api/v1/incidents/photo", { method: "POST", body: form }];
  }
  const body = {
    category: p.category, severity: p.severity, lon: p.lon, lat: p.lat,
    description: p.description || null, reported_at: p.reportedAt, client_id: item.clientId,
  };
  return ["/api/v1/incidents", {
    method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" },
  }];
}

function requestFor(item) {
  if (item.kind === "patrol") return ["/api/v1/patrols", { method: "POST", body: patrolForm(item) }];
  if (item.kind === "file") return ["/api/v1/patrols", { method: "POST", body: fileForm(item) }];
  return reportRequest(item);
}

async function problemText(response) {
  try {
    const problem = await response.json();
    return problem.detail || problem.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

// One item: "done", "failed" (the server refused it: shown, kept, not retried by itself),
// or "retry" (no network, server busy or down, sign-in needed: stop and keep the order).
async function sendOne(item) {
  await store.updateItem(item.seq, { state: "sending", attempts: item.attempts + 1 });
  const [url, init] = requestFor(item);
  let response;
  try {
    response = await fetch(url, { ...init, headers: { ...(init.headers || {}), ...authHeaders() } });
  } catch (error) {
    await store.updateItem(item.seq, { state: "waiting", error: null });
    return "retry";
  }
  if (response.ok) {
    const body = await response.json();
    await store.updateItem(item.seq, {
      state: "done", error: null, serverId: body.id, created: body.created,
      doneAt: new Date().toISOString(),
    });
    return "done";
  }
  const message = await problemText(response);
  const transient = response.status >= 500 || response.status === 429 || response.status === 401;
  await store.updateItem(item.seq, {
    state: transient ? "waiting" : "failed", error: message, status: response.status,
  });
  return transient ? "retry" : "failed";
}

async function drain(onChange) {
  for (;;) {
    const item = await store.nextToSend();
    if (!item) break;
    const outcome = await sendOne(item);
    onChange();
    if (outcome === "retry") return false;
  }
  await store.pruneDone();
  return true;
}

// Send what is waiting. One run at a time in this page, and one across the phone's tabs
// (Web Locks) - a second run would only send the same client ids again.
export function syncNow(onChange = () => {}) {
  if (!token) return Promise.resolve(false);
  if (!running) {
    const work = () => drain(onChange);
    const locked = navigator.locks
      ? navigator.locks.request("geo-patrol-sync", work)
      : work();
    running = locked.finally(() => {
      running = null;
    });
  }
  return running;
}

export async function retry(seq) {
  await store.updateItem(seq, { state: "waiting", error: null });
}
