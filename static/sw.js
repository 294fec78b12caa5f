/* SuiJian service worker (scope /, served at /sw.js?v=<version>): the day's pack for work without signal.
 *
 * Caches:
 *   suijian-static-<version>  cache-first: CSS, JS, vendor files, icons (URLs carry a content hash)
 *   suijian-pages-v1          network-first for navigations, cache fallback, then /offline/shell.
 *                             Its name does NOT change with a deploy: an update never drops the pack. Only a
 *                             change of its layout bumps PAGES_FORMAT, and activation then copies the old
 *                             entries over before deleting the old cache.
 * IndexedDB (the outbox) belongs to the page (static/js/offline.js); this worker never opens or clears it.
 *
 * Messages from a page (reply on event.ports[0]):
 *   {type: "pack"}         fetch /offline/pack.json, then every page (header X-SuiJian-Pack: 1) and asset;
 *                          replies {ok, generated_at, pages, user_id} or {ok: false, status}
 *   {type: "clear-pages"}  logout: drop the cached pages (never the outbox)
 */
"use strict";

const VERSION = new URL(self.location.href).searchParams.get("v") || "dev";
const STATIC = "suijian-static-" + VERSION;
const PAGES_FORMAT = "v1";
const PAGES = "suijian-pages-" + PAGES_FORMAT;
const META_URL = "/offline/__pack_meta__"; // a synthetic entry in PAGES: the pack's generated_at, user, pages
const SHELL_URL = "/offline/shell";
const NETWORK_ONLY = ["/sw.js", "/offline/session", "/offline/pack.json", "/offline/status", "/logout"];
const NAV_TIMEOUT_MS = 6000; // a page that takes longer than this comes from the pack when the pack has it

self.addEventListener("install", () => {
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      for (const name of names) {
        if (name.startsWith("suijian-pages-") && name !== PAGES) {
          // an older layout of the pages cache: carry its entries over, then drop it
          const old = await caches.open(name);
          const cur = await caches.open(PAGES);
          for (const req of await old.keys()) {
            if (!(await cur.match(req))) {
              const res = await old.match(req);
              if (res) await cur.put(req, res);
            }
          }
          await caches.delete(name);
        } else if (name.startsWith("suijian-static-") && name !== STATIC) {
          await caches.delete(name);
        }
      }
      await self.clients.claim();
    })()
  );
});

function isStatic(url) {
  return url.pathname.startsWith("/static/") || url.pathname === "/manifest.webmanifest";
}

async function cacheFirst(request) {
  const cache = await caches.open(STATIC);
  const hit = await cache.match(request);
  if (hit) return hit;
  try {
    const res = await fetch(request);
    if (res.ok) cache.put(request, res.clone());
    return res;
  } catch (err) {
    // an older content hash of the same file (a page cached before a deploy)
    const any = await caches.match(request, { ignoreSearch: true });
    if (any) return any;
    throw err;
  }
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      }
    );
  });
}

function pageKey(url) {
  const u = new URL(url, self.location.origin);
  return u.origin + u.pathname + u.search;
}

async function networkFirst(request) {
  const key = pageKey(request.url);
  // caches.match, not caches.open: after logout the pages cache stays gone until the next pack
  const cached = await caches.match(key, { cacheName: PAGES, ignoreVary: true });
  const net = fetch(request);
  try {
    const res = cached ? await withTimeout(net, NAV_TIMEOUT_MS) : await net;
    // keep the pack fresh: a page already in the pack is replaced by what the server just sent
    if (cached && res.ok && !res.redirected && res.type === "basic") {
      const copy = res.clone();
      caches.open(PAGES).then((cache) => cache.put(key, copy));
    }
    return res;
  } catch (err) {
    if (cached) return cached;
    const shell = await caches.match(SHELL_URL, { ignoreVary: true });
    if (shell) return shell;
    throw err;
  }
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (NETWORK_ONLY.includes(url.pathname)) return;
  if (isStatic(url)) {
    event.respondWith(cacheFirst(req));
  } else if (req.mode === "navigate") {
    event.respondWith(networkFirst(req));
  }
});

async function fetchPack() {
  const res = await fetch("/offline/pack.json", { credentials: "same-origin", cache: "no-store" });
  if (!res.ok) return { ok: false, status: res.status };
  const pack = await res.json();
  const pages = await caches.open(PAGES);
  const statics = await caches.open(STATIC);
  const failed = [];
  for (const url of pack.pages || []) {
    try {
      const r = await fetch(url, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { "X-SuiJian-Pack": "1" },
      });
      if (r.ok && !r.redirected) await pages.put(pageKey(url), r);
      else failed.push(url);
    } catch (e) {
      failed.push(url);
    }
  }
  const assets = pack.assets || [];
  for (const url of assets) {
    try {
      if (url === SHELL_URL || !isStatic(new URL(url, self.location.origin))) {
        const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
        if (r.ok) await pages.put(pageKey(url), r);
      } else if (!(await statics.match(url))) {
        const r = await fetch(url, { credentials: "same-origin" });
        if (r.ok) await statics.put(url, r);
      }
    } catch (e) {
      failed.push(url);
    }
  }
  // tasks no longer in the pack (done, cancelled) leave the phone; other static files of older deploys too
  const keep = new Set([...(pack.pages || []), ...assets, SHELL_URL, META_URL].map(pageKey));
  for (const req of await pages.keys()) {
    if (!keep.has(pageKey(req.url))) await pages.delete(req);
  }
  if (!failed.length) {
    for (const req of await statics.keys()) {
      if (!keep.has(pageKey(req.url))) await statics.delete(req);
    }
  }
  const meta = {
    generated_at: pack.generated_at,
    user_id: pack.user_id,
    pages: pack.pages || [],
    failed,
  };
  await pages.put(META_URL, new Response(JSON.stringify(meta), { headers: { "Content-Type": "application/json" } }));
  return { ok: !failed.length, ...meta };
}

let packRunning = null;

self.addEventListener("message", (event) => {
  const msg = event.data || {};
  const port = event.ports && event.ports[0];
  const reply = (v) => port && port.postMessage(v);
  if (msg.type === "pack") {
    if (!packRunning) {
      packRunning = fetchPack()
        .catch((e) => ({ ok: false, status: 0, error: String(e) }))
        .finally(() => {
          packRunning = null;
        });
    }
    event.waitUntil(packRunning.then(reply));
  } else if (msg.type === "clear-pages") {
    event.waitUntil(
      caches
        .keys()
        .then((names) => Promise.all(names.filter((n) => n.startsWith("suijian-pages-")).map((n) => caches.delete(n))))
        .then(() => reply({ ok: true }))
    );
  }
});
