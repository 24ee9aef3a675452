// The service worker of the phone web app (scope /m/): it keeps the app shell and the
// third-party files it loads so the page opens with no signal. It never stores an API
// answer: members' data stays in the page's own IndexedDB, and only the signed-in phone's.

const VERSION = "__VERSION__";
const CACHE = `geo-patrol-shell-${VERSION}`;
const SHELL = "/m/";
const FILES = [
  SHELL,
  "/m/manifest.webmanifest",
  "/static/mobile/app.js",
  "/static/mobile/store.js",
  "/static/mobile/sync.js",
  "/static/mobile/record.js",
  "/static/mobile/app.css",
  "/static/mobile/icon.svg",
  "/static/mobile/icon-192.png",
  "/static/mobile/icon-512.png",
  "/static/vendor/leaflet/dist/leaflet.js",
  "/static/vendor/leaflet/dist/leaflet.css",
];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // "reload": fresh copies, not whatever the HTTP cache holds from an older version.
    await cache.addAll(FILES.map((url) => new Request(url, { cache: "reload" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("geo-patrol-shell-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

const SHELL_WITHIN_MS = 4000;

async function shellFromNetworkOrCopy(request) {
  const copy = () => caches.match(SHELL, { ignoreSearch: true });
  try {
    // (A timer and an AbortController: AbortSignal.timeout is missing in older WebViews.)
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), SHELL_WITHIN_MS);
    try {
      return await fetch(request, { signal: controller.signal });
    } finally {
      clearTimeout(timer);
    }
  } catch {
    return (await copy()) || Response.error();
  }
}

function isStatic(url) {
  return url.pathname.startsWith("/static/mobile/") || url.pathname.startsWith("/static/vendor/");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === SHELL && request.mode === "navigate") {
    // The shell: the network when it answers soon (a new version shows at once), else the
    // copy. At the river a request can hang with no answer and no error: the app must
    // still open.
    event.respondWith(shellFromNetworkOrCopy(request));
  } else if (isStatic(url) || url.pathname === "/m/manifest.webmanifest") {
    event.respondWith(caches.match(request, { ignoreSearch: true })
      .then((cached) => cached || fetch(request)));
  }
  // Everything else (the API above all) goes to the network untouched and is never stored.
});
