// Recording a patrol with the browser's Geolocation API while the page is open.
//
// A browser gives no positions while the screen is off or the page is in the background.
// Those spans are kept as gaps (from, to) and the first fix after one is marked
// `gap_before`; nothing is filled in. The recording is saved to IndexedDB after every fix,
// so a reload or a crash loses at most the fix being written.

import * as store from "./store.js";

const EARTH_RADIUS_M = 6371008.8;

export function metresBetween(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2
    + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(h));
}

export function trackLength(fixes) {
  let total = 0;
  for (let i = 1; i < fixes.length; i += 1) {
    if (!fixes[i].gap_before) total += metresBetween(fixes[i - 1], fixes[i]);
  }
  return total;
}

// The track as drawn: one line per stretch between gaps.
export function stretches(fixes) {
  const parts = [];
  for (const fix of fixes) {
    if (!parts.length || fix.gap_before) parts.push([]);
    parts[parts.length - 1].push(fix);
  }
  return parts;
}

// The upload: a GeoJSON FeatureCollection of timed Points, which the server reads as track
// points with their accuracy (see geo_patrol/ingest/track_geojson.py). Gaps travel as a
// `gap_before` property on the first fix after one and as the `gaps` member.
export function toGeoJSON(recording) {
  const features = recording.fixes.map((fix) => ({
    type: "Feature",
    geometry: { type: "Point", coordinates: [fix.lon, fix.lat] },
    properties: {
      time: fix.time, accuracy: fix.accuracy,
      ...(fix.gap_before ? { gap_before: true } : {}),
    },
  }));
  return JSON.stringify({
    type: "FeatureCollection", name: recording.title || null,
    gaps: recording.gaps, generator: "geo-patrol phone web app", features,
  });
}

export class Recorder {
  constructor(onUpdate) {
    this.onUpdate = onUpdate;
    this.recording = null;
    this.watchId = null;
    this.hiddenSince = null;
    this.lastError = null;
    document.addEventListener("visibilitychange", () => this.visibilityChanged());
  }

  async resume() {
    const stored = (await store.get("recording", "current")) || null;
    if (this.recording) return this.recording; // started meanwhile: that one is current
    this.recording = stored;
    if (this.recording) {
      // The page was closed or reloaded while recording: that time is a gap too.
      this.hiddenSince = this.recording.lastSavedAt || null;
      this.watch();
    }
    return this.recording;
  }

  async start({ clientId, teamId, members, mode, title }) {
    const startedAt = new Date().toISOString();
    this.recording = { clientId, teamId, members, mode, title, startedAt, fixes: [], gaps: [] };
    this.hiddenSince = null;
    await this.save();
    this.watch();
  }

  watch() {
    if (this.watchId !== null || !navigator.geolocation) return;
    this.watchId = navigator.geolocation.watchPosition(
      (position) => this.fix(position),
      (error) => {
        this.lastError = error.message || String(error.code);
        this.onUpdate();
      },
      { enableHighAccuracy: true, maximumAge: 0, timeout: 60000 },
    );
  }

  visibilityChanged() {
    if (!this.recording) return;
    if (document.hidden) {
      this.hiddenSince = new Date().toISOString();
    } else {
      this.closeGap();
      this.onUpdate();
    }
  }

  closeGap() {
    if (this.hiddenSince && this.recording) {
      this.recording.gaps.push({ from: this.hiddenSince, to: new Date().toISOString() });
      this.pendingGap = this.recording.fixes.length > 0;
    }
    this.hiddenSince = null;
  }

  async fix(position) {
    if (!this.recording) return;
    if (document.hidden) return; // not trusted: the browser may hand out a stale fix
    if (this.hiddenSince) this.closeGap();
    const { longitude, latitude, accuracy } = position.coords;
    // The page's clock at the moment the fix arrives (maximumAge 0: a fresh fix), the same
    // clock as the duration shown; the server drops fixes from the future anyway.
    const fix = {
      lon: Math.round(longitude * 1e7) / 1e7, lat: Math.round(latitude * 1e7) / 1e7,
      accuracy: Math.round(accuracy * 10) / 10, time: new Date().toISOString(),
    };
    if (this.pendingGap) fix.gap_before = true;
    this.pendingGap = false;
    this.lastError = null;
    this.recording.fixes.push(fix);
    await this.save();
    this.onUpdate(fix);
  }

  async save() {
    this.recording.lastSavedAt = new Date().toISOString();
    await store.put("recording", "current", this.recording);
  }

  // Stop: the finished recording (the caller queues it), or null if there was none.
  async stop() {
    if (this.watchId !== null) navigator.geolocation.clearWatch(this.watchId);
    this.watchId = null;
    const finished = this.recording;
    this.recording = null;
    if (finished) finished.endedAt = new Date().toISOString();
    return finished;
  }

  async discard() {
    await store.remove("recording", "current");
  }

  get lastFix() {
    const fixes = this.recording ? this.recording.fixes : [];
    return fixes.length ? fixes[fixes.length - 1] : null;
  }
}
