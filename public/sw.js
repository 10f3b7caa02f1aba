// PowerPulse service worker: keeps the app shell so the app opens offline; saved datasets live
// in IndexedDB. PRECACHE is filled in by the build (scripts/precache.sh, Trunk post_build hook)
// with the hashed asset names of that build.
const VERSION = "__BUILD__";
const PRECACHE = [/*__PRECACHE__*/];
const CACHE = `powerpulse-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("powerpulse-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  // The API and health are always live: never answered from the cache.
  if (url.pathname.startsWith("/api") || url.pathname === "/health" || url.pathname.startsWith("/docs")) return;
  const isPage = event.request.mode === "navigate";
  if (isPage) {
    // Network first for the page (new builds show at once), the cached shell when offline.
    event.respondWith(
      fetch(event.request)
        .then((resp) => {
          const copy = resp.clone();
          caches.open(CACHE).then((c) => c.put("./", copy));
          return resp;
        })
        .catch(() => caches.match("./").then((r) => r || caches.match("./index.html"))),
    );
    return;
  }
  // Assets: cache first (hashed names never change), then network, kept for next time. A
  // request of the module worker or a CORS preload carries headers the precache's requests did
  // not (the server varies on Origin and Accept-Encoding); the file is the same, so ignore Vary.
  event.respondWith(
    caches.match(event.request, { ignoreVary: true }).then((hit) => hit || fetch(event.request).then((resp) => {
      if (resp.ok) {
        const copy = resp.clone();
        caches.open(CACHE).then((c) => c.put(event.request, copy));
      }
      return resp;
    })),
  );
});
