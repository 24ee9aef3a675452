// geo-patrol on the phone: record a patrol, report with a photo, see the queue, all offline
// first. Plain ES modules, no build step; Leaflet (a global from /static/vendor) draws maps.

import * as store from "./store.js";
import * as sync from "./sync.js";
import { Recorder, stretches, toGeoJSON, trackLength, metresBetween } from "./record.js";

const STRINGS = JSON.parse(document.getElementById("strings").textContent);
const OPEN_STATUSES = new Set(["reported", "assigned", "accepted", "in_progress", "reopened"]);
const $ = (selector) => document.querySelector(selector);
const state = { me: null, teams: [], categories: [], view: "patrol", reportPoint: null };

// Language: ?lang=en (remembered), then the remembered choice, then the server's default.
function pickLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "zh" || asked === "en") localStorage.setItem("gp.lang", asked);
  const chosen = localStorage.getItem("gp.lang") || document.body.dataset.defaultLang;
  return chosen === "en" ? "en" : "zh";
}
const LANG = pickLanguage();
document.documentElement.lang = LANG === "en" ? "en" : "zh-CN";
sync.setLanguage(LANG);

function t(key, vars = {}) {
  const text = STRINGS[LANG][key] ?? STRINGS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

function translatePage() {
  for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll("[data-t-placeholder]")) {
    el.placeholder = t(el.dataset.tPlaceholder);
  }
  document.title = t("title");
}

function clientId(prefix) {
  // crypto.randomUUID needs a secure context; getRandomValues works everywhere.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${prefix}-${hex}`;
}

function toast(message) {
  const box = $("#toast");
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

const km = (metres) => (metres >= 1000 ? `${(metres / 1000).toFixed(2)} km` : `${Math.round(metres)} m`);

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

// Talking to the service ------------------------------------------------------------------

// Reads get an answer soon or fail (then cached data is used): a request that hangs at the
// river must not hold the page (its queue and recorder wait for the account to load).
async function api(path, init = {}) {
  const response = await fetch(path, {
    signal: sync.deadlineSignal(sync.readDeadline()), ...init,
    headers: {
      Accept: "application/json", ...sync.languageHeaders(), ...(init.headers || {}),
      ...sync.authHeaders(),
    },
  });
  if (!response.ok) {
    let detail = `HTTP ${response.status}`;
    try { detail = (await response.json()).detail || detail; } catch { /* not JSON */ }
    const error = new Error(detail);
    error.status = response.status;
    throw error;
  }
  const body = await response.json();
  // A list comes a page at a time (Link rel="next", RFC 8288): follow it to the end, on
  // this origin, so that the phone has every row as one list or one FeatureCollection.
  const next = (response.headers.get("Link") || "").match(/<([^>]*)>;\s*rel="next"/);
  if (!next) return body;
  const url = new URL(next[1], location.href);
  const rest = await api(url.pathname + url.search, init);
  if (Array.isArray(body)) return body.concat(rest);
  return { ...body, features: body.features.concat(rest.features), links: [] };
}

// Reference data: fetched when online, kept in IndexedDB for the river bank.
async function cached(key, path) {
  try {
    const value = await api(path);
    await store.put("kv", key, value);
    return value;
  } catch (error) {
    if (error.status === 401) throw error;
    return (await store.get("kv", key)) ?? null;
  }
}

// Sign-in -----------------------------------------------------------------------------------

function tokenFromFragment() {
  const match = location.hash.match(/^#device=(gpd_[A-Za-z0-9_-]+)$/);
  if (!match) return null;
  // Out of the address bar and the history at once: the token stays in the phone's storage.
  history.replaceState(null, "", location.pathname + location.search);
  return match[1];
}

// Unsent items go out with the phone's credential, so they keep the member who made them:
// while some are waiting, only that member may sign in (or sign out, which deletes them).
async function heldForAnother(memberId, login) {
  const previous = await store.get("kv", "me");
  if (!previous) return false;
  const other = memberId !== undefined ? previous.member_id !== memberId
    : Boolean(previous.login) && previous.login !== login;
  const unsent = (await store.queueItems()).filter((item) => item.state !== "done");
  if (!other || !unsent.length) return false;
  $("#signin-error").textContent = t("signin_with_queue", { n: unsent.length, name: previous.name });
  return true;
}

async function signInWithPassword(event) {
  event.preventDefault();
  const form = event.target;
  $("#signin-error").textContent = "";
  // Checked before asking for a token when the login is known, after it otherwise.
  if (await heldForAnother(undefined, form.login.value.trim())) return;
  try {
    const body = { login: form.login.value, password: form.password.value,
                   label: "phone web app", days: 30 };
    const response = await fetch("/api/v1/auth/tokens", {
      method: "POST", headers: { "Content-Type": "application/json", ...sync.languageHeaders() },
      body: JSON.stringify(body),
      signal: sync.deadlineSignal(sync.readDeadline()),  // no answer: say so, do not hang
    });
    if (!response.ok) {
      $("#signin-error").textContent = response.status === 401 ? t("wrong_password")
        : (await response.json()).detail;
      return;
    }
    const { token, member_id: memberId } = await response.json();
    if (await heldForAnother(memberId)) return;  // the new token is dropped, never used
    localStorage.setItem("gp.token", token);
    form.password.value = "";
    await start();
  } catch {
    $("#signin-error").textContent = t("offline_signin");
  }
}

async function signOut() {
  const waiting = (await store.queueItems()).filter((item) => item.state !== "done");
  if (waiting.length && !confirm(t("signout_with_queue", { n: waiting.length }))) return;
  if (state.recorder.recording) await state.recorder.stop();
  localStorage.removeItem("gp.token");
  for (const name of ["queue", "recording", "kv"]) await store.clear(name);
  location.replace("/m/");
}

function showSignIn(message) {
  $("#signin").hidden = false;
  $("#tabs").hidden = true;
  for (const view of document.querySelectorAll(".view")) view.hidden = true;
  $("#signin-error").textContent = message || "";
}

// Views ---------------------------------------------------------------------------------------

function show(view) {
  state.view = view;
  for (const section of document.querySelectorAll(".view")) {
    section.hidden = section.id !== `view-${view}`;
  }
  for (const button of document.querySelectorAll("#tabs button")) {
    button.classList.toggle("active", button.dataset.view === view);
  }
  if (view === "patrol") state.patrolMap?.invalidateSize();
  if (view === "report") showReportMap();
  if (view === "queue") renderQueue();
  if (view === "more") loadMore();
}

function makeMap(id) {
  const map = L.map(id, { attributionControl: false, zoomControl: true });
  map.setView([30.92, 120.62], 13);
  map.rivers = L.layerGroup().addTo(map);
  map.duty = L.layerGroup().addTo(map);
  return map;
}

function drawRivers(map, rivers) {
  if (!rivers) return;
  map.rivers.clearLayers();
  // GeoJSON is lon/lat; L.geoJSON does the flip to Leaflet's [lat, lon] itself.
  L.geoJSON(rivers, { style: { color: "#3b82c4", weight: 3, opacity: 0.7 } }).addTo(map.rivers);
}

// My duty as river chief: this period's patrols done and owed, the stretch on the map ------------

// The supervisor map's colours: met green, in progress amber, missed red, not due grey.
const DUTY_COLOUR = { met: "#2e7d32", in_progress: "#f9a825", missed: "#c62828", not_due: "#9e9e9e" };
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function dueDay(isoDate) {
  const [, month, day] = isoDate.split("-").map(Number);
  return LANG === "en" ? `${day} ${MONTHS[month - 1]}` : `${month}月${day}日`;
}

function dutyItem(duty) {
  const period = LANG === "en" ? duty.period.label_en : duty.period.label_zh;
  const where = duty.stretch_label ? `${duty.river_name} · ${duty.stretch_label}` : duty.river_name;
  const item = el("li", { class: `duty-item ${duty.status}`, "data-appointment": duty.appointment_id },
    el("div", { class: "what" }, where),
    el("div", { class: "duty-line" },
      t("duty_line", { done: duty.done, required: duty.required, due: dueDay(duty.due) })),
    el("div", { class: "muted" }, `${period} · `,
      el("b", { class: "duty-status" }, t(`duty_status_${duty.status}`))));
  for (const patrol of duty.candidates) {
    const when = new Date(patrol.started_at).toLocaleString(LANG === "en" ? "en-GB" : "zh-CN");
    item.append(el("div", { class: `muted candidate ${patrol.reason}` },
      `${when} · ${Math.round(patrol.share * 100)}% · ${t(`duty_reason_${patrol.reason}`)}`));
  }
  return item;
}

function renderDuty(duties) {
  const map = state.patrolMap;
  map.duty.clearLayers();
  $("#duty").hidden = !duties?.length;
  $("#duty-list").replaceChildren(...(duties || []).map(dutyItem));
  const features = (duties || []).filter((d) => d.stretch)
    .map((d) => ({ type: "Feature", geometry: d.stretch, properties: { status: d.status } }));
  if (!features.length) return;
  // GeoJSON is lon/lat; L.geoJSON does the flip to Leaflet's [lat, lon] itself.
  const drawn = L.geoJSON({ type: "FeatureCollection", features }, {
    style: (f) => ({ color: DUTY_COLOUR[f.properties.status], weight: 7, opacity: 0.8,
                     className: "duty-stretch" }),
  }).addTo(map.duty);
  if (!state.recorder.recording) map.fitBounds(drawn.getBounds(), { padding: [16, 16] });
}

// Patrol -------------------------------------------------------------------------------------

function selectedTeam() {
  return state.teams.find((team) => String(team.id) === $("#team").value) || state.teams[0];
}

function renderTeams() {
  const teamSelect = $("#team");
  const fileTeam = $("#file-team");
  const keep = teamSelect.value || localStorage.getItem("gp.team");
  teamSelect.replaceChildren();
  fileTeam.replaceChildren();
  for (const team of state.teams) {
    teamSelect.append(el("option", { value: team.id }, team.name));
    fileTeam.append(el("option", { value: team.id }, team.name));
  }
  if (keep && state.teams.some((team) => String(team.id) === String(keep))) {
    teamSelect.value = keep;
    fileTeam.value = keep;
  }
  renderMembers();
}

function renderMembers() {
  const team = selectedTeam();
  const box = $("#members");
  box.replaceChildren();
  if (!team) return;
  localStorage.setItem("gp.team", team.id);
  for (const member of team.members) {
    const self = state.me && member.id === state.me.member_id;
    const input = el("input", { type: "checkbox", value: member.id });
    input.checked = self;
    input.disabled = self;
    box.append(el("label", { class: "check" }, input, ` ${member.name}`));
  }
}

async function startPatrol() {
  const team = selectedTeam();
  if (!team) return toast(t("no_team"));
  if (!navigator.geolocation) return toast(t("no_geolocation"));
  const members = [...document.querySelectorAll("#members input:checked")].map((i) => Number(i.value));
  const date = new Date().toLocaleString(LANG === "en" ? "en-GB" : "zh-CN");
  await state.recorder.start({
    clientId: clientId("patrol"), teamId: team.id, members, mode: $("#mode").value,
    title: `${team.name} ${date}`,
  });
  renderPatrol();
}

async function stopPatrol() {
  const recording = await state.recorder.stop();
  if (!recording) return;
  if (recording.fixes.length < 2) {
    await state.recorder.discard();
    toast(t("too_few_fixes"));
  } else {
    await store.queueRecording({
      kind: "patrol", clientId: recording.clientId,
      summary: { fixes: recording.fixes.length, length: trackLength(recording.fixes),
                 gaps: recording.gaps.length, title: recording.title },
      payload: {
        geojson: toGeoJSON(recording), filename: `${recording.clientId}.geojson`,
        teamId: recording.teamId, members: recording.members, mode: recording.mode,
        title: recording.title,
      },
    });
    toast(t("patrol_queued"));
  }
  renderPatrol();
  await refreshQueue();
  syncSoon();
}

function renderPatrol() {
  const recording = state.recorder.recording;
  $("#patrol-setup").hidden = Boolean(recording);
  $("#patrol-live").hidden = !recording;
  const map = state.patrolMap;
  map.track?.remove();
  map.here?.remove();
  if (!recording) return;
  const fixes = recording.fixes;
  $("#distance").textContent = km(trackLength(fixes));
  $("#fix-count").textContent = String(fixes.length);
  $("#gap-count").textContent = String(recording.gaps.length);
  renderDuration();
  const error = state.recorder.lastError;
  $("#gps-status").textContent = error ? t("gps_error", { error })
    : (fixes.length ? t("gps_ok", { accuracy: Math.round(fixes[fixes.length - 1].accuracy) })
      : t("gps_waiting"));
  // Leaflet wants [lat, lon]; one polyline per stretch, so a gap is drawn as a gap.
  const lines = stretches(fixes).map((part) => part.map((f) => [f.lat, f.lon]));
  map.track = L.polyline(lines, { color: "#d9480f", weight: 4 }).addTo(map);
  const last = state.recorder.lastFix;
  if (last) {
    map.here = L.circleMarker([last.lat, last.lon], { radius: 7, color: "#0b5d7a" }).addTo(map);
    map.setView([last.lat, last.lon], Math.max(map.getZoom(), 15));
  }
}

function renderDuration() {
  const recording = state.recorder.recording;
  if (!recording) return;
  $("#duration").textContent = clock((Date.now() - Date.parse(recording.startedAt)) / 1000);
}

// Reports -----------------------------------------------------------------------------------

function renderCategories() {
  const select = $("#category");
  select.replaceChildren();
  for (const category of state.categories) {
    const name = LANG === "en" ? category.name_en || category.name : category.name;
    select.append(el("option", { value: category.code }, name));
  }
}

function categoryName(code) {
  const category = state.categories.find((c) => c.code === code);
  if (!category) return code;
  return LANG === "en" ? category.name_en || category.name : category.name;
}

function currentPosition() {
  const last = state.recorder.lastFix;
  if (last) return Promise.resolve({ lon: last.lon, lat: last.lat });
  return new Promise((resolve) => {
    if (!navigator.geolocation) return resolve(null);
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lon: p.coords.longitude, lat: p.coords.latitude }),
      () => resolve(null),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 },
    );
  });
}

function showReportMap() {
  const map = state.reportMap;
  map.invalidateSize();
  map.here?.remove();
  const last = state.recorder.lastFix;
  if (last) {
    map.here = L.circleMarker([last.lat, last.lon], { radius: 7, color: "#0b5d7a" }).addTo(map);
    map.setView([last.lat, last.lon], 16);
  }
}

function pickOnMap(event) {
  state.reportPoint = { lon: event.latlng.lng, lat: event.latlng.lat };
  state.reportMap.pick?.remove();
  state.reportMap.pick = L.circleMarker(event.latlng, { radius: 8, color: "#c92a2a" })
    .addTo(state.reportMap);
  $("#where-map").checked = true;
}

async function submitReport(event) {
  event.preventDefault();
  const form = event.target;
  const point = $("#where-map").checked ? state.reportPoint : await currentPosition();
  if (!point) return toast(t("no_location"));
  const photo = form.photo.files[0] || null;
  await store.enqueue({
    kind: "report", clientId: clientId("report"),
    summary: { category: form.category.value, severity: form.severity.value, photo: Boolean(photo) },
    payload: {
      category: form.category.value, severity: form.severity.value,
      description: form.description.value.trim(), lon: Number(point.lon.toFixed(7)),
      lat: Number(point.lat.toFixed(7)), reportedAt: new Date().toISOString(),
      photo, photoName: photo ? photo.name : null,
    },
  });
  form.reset();
  $("#photo-preview").replaceChildren();
  toast(t("report_queued"));
  await refreshQueue();
  syncSoon();
}

function previewPhoto(event) {
  const file = event.target.files[0];
  const box = $("#photo-preview");
  box.replaceChildren();
  if (file) box.append(el("img", { src: URL.createObjectURL(file), alt: "" }));
}

// Queue -------------------------------------------------------------------------------------

function describe(item) {
  if (item.kind === "patrol") {
    return t("queue_patrol", { title: item.summary.title, n: item.summary.fixes,
                               length: km(item.summary.length), gaps: item.summary.gaps });
  }
  if (item.kind === "file") return t("queue_file", { name: item.payload.filename });
  return t("queue_report", { category: categoryName(item.summary.category),
                             severity: t(`severity_${item.summary.severity}`),
                             photo: item.summary.photo ? t("with_photo") : "" });
}

async function refreshQueue() {
  const items = await store.queueItems();
  const waiting = items.filter((item) => item.state !== "done").length;
  $("#queue-badge").textContent = t("queue_badge", { n: waiting });
  $("#queue-badge").classList.toggle("busy", waiting > 0);
  if (state.view === "queue") renderQueue(items);
}

async function renderQueue(items) {
  items = items || (await store.queueItems());
  const list = $("#queue-list");
  list.replaceChildren();
  if (!items.length) list.append(el("li", { class: "empty" }, t("queue_empty")));
  for (const item of [...items].reverse()) {
    const stateText = item.state === "done"
      ? t(item.created === false ? "state_done_again" : "state_done", { id: item.serverId })
      : t(`state_${item.state}`);
    const li = el("li", { class: `item ${item.state}`, "data-seq": item.seq, "data-kind": item.kind },
      el("div", { class: "what" }, describe(item)),
      el("div", { class: "when" }, new Date(item.createdAt).toLocaleString(LANG === "en" ? "en-GB" : "zh-CN")),
      el("div", { class: "state" }, stateText));
    if (item.error) li.append(el("div", { class: "error" }, item.error));
    if (item.noAnswerS && item.state === "waiting") {
      li.append(el("div", { class: "error no-answer" }, t("no_answer", { s: item.noAnswerS })));
    }
    if (item.state === "failed") {
      li.append(el("div", { class: "row" },
        el("button", { onclick: async () => { await sync.retry(item.seq); syncSoon(); } }, t("retry")),
        el("button", { class: "danger", onclick: async () => {
          if (confirm(t("confirm_delete"))) { await store.removeItem(item.seq); refreshQueue(); }
        } }, t("delete"))));
    }
    list.append(li);
  }
}

function syncSoon() {
  sync.syncNow(refreshQueue).then(refreshQueue, refreshQueue);
}

function renderNetwork() {
  $("#net").textContent = navigator.onLine ? t("online") : t("offline");
  $("#net").classList.toggle("off", !navigator.onLine);
}

// More: recent patrols, incidents nearby, file upload -------------------------------------------

async function loadMore() {
  const team = selectedTeam();
  const patrols = $("#recent-patrols");
  const nearby = $("#nearby");
  patrols.replaceChildren(el("li", {}, t("loading")));
  nearby.replaceChildren(el("li", {}, t("loading")));
  try {
    const rows = await api(`/api/v1/patrols?team_id=${team ? team.id : ""}&limit=10`);
    patrols.replaceChildren(...rows.map((p) => el("li", {},
      `${p.title || `#${p.id}`} · ${km(p.length_m || 0)}`,
      p.quality_flags?.length ? el("span", { class: "flags" }, ` ${p.quality_flags.join(", ")}`) : "")));
    if (!rows.length) patrols.replaceChildren(el("li", {}, t("none")));
  } catch {
    patrols.replaceChildren(el("li", {}, t("needs_network")));
  }
  const here = state.recorder.lastFix || (await currentPosition());
  if (!here) {
    nearby.replaceChildren(el("li", {}, t("no_location")));
    return;
  }
  try {
    const bbox = [here.lon - 0.03, here.lat - 0.025, here.lon + 0.03, here.lat + 0.025]
      .map((v) => v.toFixed(5)).join(",");
    const found = await api(`/api/v1/incidents?bbox=${bbox}&limit=200`);
    const open = found.features.filter((f) => OPEN_STATUSES.has(f.properties.status))
      .map((f) => ({ f, d: metresBetween(here, { lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] }) }))
      .sort((a, b) => a.d - b.d).slice(0, 20);
    nearby.replaceChildren(...open.map(({ f, d }) => el("li", {},
      `${categoryName(f.properties.category)} · ${t(`status_${f.properties.status}`)} · ${km(d)}`)));
    if (!open.length) nearby.replaceChildren(el("li", {}, t("none")));
  } catch {
    nearby.replaceChildren(el("li", {}, t("needs_network")));
  }
}

async function queueFile(event) {
  event.preventDefault();
  const form = event.target;
  const file = form.track.files[0];
  if (!file) return;
  await store.enqueue({
    kind: "file", clientId: clientId("file"), summary: {},
    payload: { blob: file, filename: file.name, teamId: Number(form.team.value), datum: form.datum.value },
  });
  form.reset();
  toast(t("file_queued"));
  await refreshQueue();
  syncSoon();
}

// Start ---------------------------------------------------------------------------------------

async function loadAccount() {
  // All at once: with no answer from the service the page waits one read deadline, not four.
  const [me, teams, categories, rivers, duty] = await Promise.all([
    cached("me", "/api/v1/me"), cached("teams", "/api/v1/mobile/teams"),
    cached("categories", "/api/v1/incident-categories"), cached("rivers", "/api/v1/rivers"),
    cached("duty", "/api/v1/me/duty"),
  ]);
  state.me = me;
  state.teams = teams || [];
  state.categories = categories || [];
  $("#who").textContent = state.me ? `${state.me.name}${state.me.via === "device" ? t("via_device") : ""}` : "";
  renderTeams();
  renderCategories();
  drawRivers(state.patrolMap, rivers);
  drawRivers(state.reportMap, rivers);
  renderDuty(duty);
}

async function start() {
  const token = localStorage.getItem("gp.token");
  sync.setToken(token);
  if (!token) return showSignIn();
  $("#signin").hidden = true;
  $("#tabs").hidden = false;
  show(state.view);
  try {
    await loadAccount();
  } catch (error) {
    if (error.status === 401) return showSignIn(t("token_refused"));
  }
  await state.recorder.resume();
  renderPatrol();
  await refreshQueue();
  syncSoon();
}

function wire() {
  translatePage();
  sync.setAnswerWithin(Number(document.body.dataset.answerMs));
  $("#signin-form").addEventListener("submit", signInWithPassword);
  for (const button of document.querySelectorAll("#tabs button")) {
    button.addEventListener("click", () => show(button.dataset.view));
  }
  $("#team").addEventListener("change", renderMembers);
  $("#start").addEventListener("click", startPatrol);
  $("#stop").addEventListener("click", stopPatrol);
  $("#report-here").addEventListener("click", () => show("report"));
  $("#report-form").addEventListener("submit", submitReport);
  $("#photo").addEventListener("change", previewPhoto);
  $("#file-form").addEventListener("submit", queueFile);
  $("#sync-now").addEventListener("click", syncSoon);
  $("#queue-badge").addEventListener("click", () => show("queue"));
  $("#signout").addEventListener("click", signOut);
  $("#lang-switch").textContent = t("other_language");
  $("#lang-switch").href = `/m/?lang=${LANG === "en" ? "zh" : "en"}`;
  window.addEventListener("online", () => { renderNetwork(); syncSoon(); });
  window.addEventListener("offline", renderNetwork);
  renderNetwork();
  state.patrolMap = makeMap("patrol-map");
  state.reportMap = makeMap("report-map");
  state.reportMap.on("click", pickOnMap);
  state.recorder = new Recorder(() => renderPatrol());
  setInterval(renderDuration, 1000);
  setInterval(syncSoon, 30000);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" }).catch(() => {});
  }
}

// A scanned code replaces the phone's credential, unless what the previous one recorded is
// still unsent: it would go out in somebody else's name.
async function adoptScannedToken(scanned) {
  const current = localStorage.getItem("gp.token");
  if (!scanned || scanned === current) return;
  const unsent = current ? (await store.queueItems()).filter((i) => i.state !== "done") : [];
  if (unsent.length) {
    toast(t("scan_with_queue", { n: unsent.length }));
    return;
  }
  localStorage.setItem("gp.token", scanned);
  await store.clear("kv");
}

const scanned = tokenFromFragment();
wire();
adoptScannedToken(scanned).then(start);
