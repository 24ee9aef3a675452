// Sending the queue: in order, one item at a time, each with the client id that makes the
// server idempotent (upload_id for patrols and files, client_id for reports), so a retry
// after a lost answer returns the first patrol or report instead of making a second one.

import * as store from "./store.js";

let token = null;
let running = null;
// The app's language, sent as Accept-Language so the server's refusals (problem detail)
// come in the words the patrol member reads, whatever the browser's own language is.
let language = "zh-CN";

// A request with no answer in time is given up and the item tried again later: a phone that
// walks out of coverage mid-upload can be left with a connection that neither answers nor
// fails, and the whole queue would wait behind it. The service sets the wait (the shell's
// data-answer-ms, GEO_PATROL_MOBILE_ANSWER_SECONDS); an item also gets time for its bytes
// at a poor uplink's 5 kB/s.
let answerWithinMs = 60000;
const SLOW_UPLINK_BYTES_PER_MS = 5;

export function setToken(value) {
  token = value;
}

export function setLanguage(lang) {
  language = lang === "en" ? "en" : "zh-CN";
}

export function languageHeaders() {
  return { "Accept-Language": language };
}

// A signal that aborts after `ms` (AbortSignal.timeout where the browser has it: Android
// WebView before 103 and Safari before 16 do not).
export function deadlineSignal(ms) {
  if (typeof AbortSignal.timeout === "function") return AbortSignal.timeout(ms);
  const controller = new AbortController();
  setTimeout(() => controller.abort(new DOMException("no answer in time", "TimeoutError")), ms);
  return controller.signal;
}

export function setAnswerWithin(ms) {
  if (Number.isFinite(ms) && ms > 0) answerWithinMs = ms;
}

function payloadBytes(item) {
  const p = item.payload;
  return (p.geojson ? p.geojson.length : 0) + (p.blob ? p.blob.size : 0)
    + (p.photo ? p.photo.size : 0);
}

// Reads (account, teams, categories, rivers) are small and have a cached fallback.
export function readDeadline() {
  return Math.min(answerWithinMs, 10000);
}

export function deadlineFor(item) {
  return Math.round(answerWithinMs + payloadBytes(item) / SLOW_UPLINK_BYTES_PER_MS);
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
// (No answer in time: "retry", with the wait noted on the item as noAnswerS.)
async function sendOne(item) {
  await store.updateItem(item.seq, { state: "sending", attempts: item.attempts + 1 });
  const [url, init] = requestFor(item);
  const deadline = deadlineFor(item);
  let response;
  let body = null;
  try {
    // The deadline covers the answer's body too: it is read before the signal is dropped.
    response = await fetch(url, {
      ...init, headers: { ...(init.headers || {}), ...languageHeaders(), ...authHeaders() },
      signal: deadlineSignal(deadline),
    });
    body = response.ok ? await response.json() : null;
  } catch (error) {
    const noAnswerS = error && error.name === "TimeoutError" ? Math.round(deadline / 1000) : null;
    await store.updateItem(item.seq, { state: "waiting", error: null, noAnswerS });
    return "retry";
  }
  if (response.ok) {
    await store.updateItem(item.seq, {
      state: "done", error: null, noAnswerS: null, serverId: body.id, created: body.created,
      doneAt: new Date().toISOString(),
    });
    return "done";
  }
  const message = await problemText(response);
  const transient = response.status >= 500 || response.status === 429 || response.status === 401;
  await store.updateItem(item.seq, {
    state: transient ? "waiting" : "failed", error: message, noAnswerS: null,
    status: response.status,
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
