/* Offline on site: service worker registration, the day's pack, the outbox, sync, overlay, banner, device page.
 *
 * Loaded on every logged-in page (templates/base.html, after vendor/idb). The server stays the only renderer:
 * every change made in a form marked [data-offline] is written to an IndexedDB outbox first and then sent, in
 * the order made, as the same POST the form would make, with X-Client-Id (the entry's id), a fresh
 * X-CSRFToken from /offline/session, HX-Request and X-Offline-Queued; the server applies each id once.
 *
 * Stable hooks (tests/e2e/test_offline*.py rely on them; keep them when changing this file):
 *   #offline-msgs              hidden element in base.html: every text shown (data-*), the user (data-user-id,
 *                              data-user-name), data-pack="1" for users with a day's pack, data-sw (worker URL),
 *                              data-session-url, data-status-url, data-me-url
 *   #offline-banner            the banner; data-offline-state = "online" | "offline"; its parts (hidden when empty):
 *     [data-banner=offline]    离线 line              [data-banner=pending]   "N 项修改未同步" (data-count=N)
 *     [data-banner=rejected]   "N 项未被接受" (data-count)   [data-banner=updated]  "离线数据更新于 HH:mm"
 *     [data-banner=auth]       session lost / another account, with a 重新登录 link
 *     [data-banner=other]      another account's changes wait on this phone (shared phone)
 *     [data-sync-now]          立即同步 (also on the device page)
 *   [data-sync-state]          in each [data-offline] form: the state of its newest change, data-state =
 *                              "queued" | "sending" | "synced" | "rejected", text 本机已存 / 同步中 / 已同步 /
 *                              未被接受：<the server's reason>
 *   li[data-pending]           a finding made on the phone, from <template id="tpl-finding"> (__REF__ = its id);
 *                              its own state in [data-finding-state]
 *   img[data-pending-photo]    a queued photo shown from its blob (the id of its entry)
 *   #checkin-offline           task page: 检查已开始（本机已存） with a link to the record page
 *   [data-offline-record] [data-task-pending]   我的任务: "本机有 N 项未同步" on a task with changes on the phone
 *   device page: #device-storage, #device-persist (data-persisted="true|false"), #device-queue (li[data-state]
 *                [data-id]; button [data-dismiss] on a refused one), [data-export] (a suijian-outbox/1 file)
 *   window.SuiJianOffline      {enqueue, enqueueForm, syncNow, ready, entries, online, uuid, sha256, t}
 *   document events            "suijian:queued" / "suijian:synced" / "suijian:rejected" (detail: the entry),
 *                              "suijian:pack" (detail: the pack's meta)
 *
 * Outbox (IndexedDB "suijian" v2, store "outbox", keyPath id, index "seq"; store "meta"): {id, user_id, user_name,
 * url, page (the record URL of the page, [data-offline-page]), key (data-offline-key), kind (the key's first part),
 * ref, target, swap, fields: [[name, value]], files: [{field, blob, filename, type, sha256}], created_at, seq,
 * state: "queued"|"sending"|"synced"|"rejected"|"dismissed", error, attempts, next_try_at, synced_at, redirect}.
 * Synced entries stay a day (their blobs are dropped at once); nothing else is ever deleted by this file.
 */
(function () {
  "use strict";
  var DB_NAME = "suijian", DB_VERSION = 2;
  var BACKOFF_MIN = 5000, BACKOFF_MAX = 300000, PACK_EVERY = 600000, KEEP_SYNCED = 86400000;
  var SEND_TIMEOUT = 60000, PHOTO_TIMEOUT = 300000, REPORT_IDLE_EVERY = 600000;
  var msgsEl = document.getElementById("offline-msgs");
  if (!msgsEl || !window.indexedDB || !window.idb || !window.fetch || !window.Promise) return;
  var M = msgsEl.dataset;
  var USER_ID = parseInt(M.userId, 10) || null, USER_NAME = M.userName || "";

  function t(key, vars) {
    var s = M[key] || key;
    if (vars) Object.keys(vars).forEach(function (k) { s = s.split("{" + k + "}").join(String(vars[k])); });
    return s;
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }
  function sha256(blob) {
    if (!window.crypto || !crypto.subtle) return Promise.resolve(""); // http on a LAN address: no subtle crypto
    return blob.arrayBuffer().then(function (buf) { return crypto.subtle.digest("SHA-256", buf); }).then(function (d) {
      return Array.prototype.map.call(new Uint8Array(d), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    });
  }
  function hhmm(iso) {
    var d = new Date(iso);
    if (isNaN(d)) return "";
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  function pageKey() {
    var el = document.querySelector("[data-offline-page]");
    return el ? el.getAttribute("data-offline-page") : location.pathname;
  }
  function kindOf(key) { return (key || "").split(":")[0] || "other"; }
  function refOf(key) { var i = (key || "").indexOf(":"); return i < 0 ? "" : key.slice(i + 1); }
  function cssEsc(s) { return window.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/["\\]/g, "\\$&"); }

  // ------------------------------------------------------------------------------------------------ database
  // Schema history: 1 = store "outbox" (keyPath id); 2 = index "seq" on it, store "meta" (device id, sync times).
  // Each step upgrades from the one before, so a phone with queued changes keeps them across app updates.
  var dbp = idb.openDB(DB_NAME, DB_VERSION, {
    upgrade: function (db, oldVersion, newVersion, tx) {
      if (oldVersion < 1) db.createObjectStore("outbox", { keyPath: "id" });
      if (oldVersion < 2) {
        var store = tx.objectStore("outbox");
        store.createIndex("seq", "seq");
        db.createObjectStore("meta");
        // version-1 entries had no seq: order them by creation time
        store.openCursor().then(function step(cur) {
          if (!cur) return;
          var v = cur.value;
          if (v.seq == null) { v.seq = Date.parse(v.created_at) * 1000 || 0; cur.update(v); }
          return cur.continue().then(step);
        });
      }
    },
    blocking: function () { dbp.then(function (db) { db.close(); }); }, // let a newer tab upgrade
  });
  var dbOk = false;
  dbp.then(function () { dbOk = true; }, function () { dbOk = false; });

  var seqCounter = 0;
  function nextSeq() { seqCounter = (seqCounter + 1) % 1000; return Date.now() * 1000 + seqCounter; }

  function allEntries() {
    return dbp.then(function (db) { return db.getAllFromIndex("outbox", "seq"); });
  }
  function putEntry(e) { return dbp.then(function (db) { return db.put("outbox", e); }); }
  function getMeta(k) { return dbp.then(function (db) { return db.get("meta", k); }); }
  function setMeta(k, v) { return dbp.then(function (db) { return db.put("meta", v, k); }); }
  function deviceId() {
    return getMeta("device_id").then(function (id) {
      if (id) return id;
      id = uuid();
      return setMeta("device_id", id).then(function () { return id; });
    });
  }
  function open(e) { return e.state === "queued" || e.state === "sending"; }

  // -------------------------------------------------------------------------------------------- enqueueing
  function targetSelector(elt, form) {
    var ht = elt.closest("[hx-target]");
    var v = ht ? ht.getAttribute("hx-target") : null;
    if (v && v.charAt(0) === "#") return v;
    if (form && form.dataset.target) return "#" + form.dataset.target;
    var el = elt.closest("form") || elt;
    return el.id ? "#" + el.id : null;
  }
  function swapStyle(elt) {
    var hs = elt.closest("[hx-swap]");
    return hs ? hs.getAttribute("hx-swap").split(/\s+/)[0] : "innerHTML";
  }

  /* Build and store an entry. opts: {url, key, fields: [[n, v]], files: [{field, blob, filename, type}],
   * target, swap, id}. Resolves to the stored entry. Unsent answer/result changes of the same item that are
   * the newest in the queue are replaced rather than piled up. */
  function enqueue(opts) {
    var fields = (opts.fields || []).filter(function (p) { return p[0] !== "csrf_token"; });
    var files = opts.files || [];
    var e = {
      id: opts.id || uuid(), user_id: USER_ID, user_name: USER_NAME, url: opts.url, page: opts.page || pageKey(),
      key: opts.key || "", kind: kindOf(opts.key), ref: refOf(opts.key), target: opts.target || null,
      swap: opts.swap || "innerHTML", fields: fields, files: [], created_at: new Date().toISOString(),
      seq: nextSeq(), state: "queued", error: "", attempts: 0, next_try_at: 0, synced_at: null,
    };
    // what a change creates (finding, photo, signature) carries the entry's id as its client id; a new finding is
    // known by it (photos queued for it use it in their URL) until the server has it. The check-in, result and
    // submit forms' client_uuid names the record (the same on the task page and the pack's draft) and stays.
    if (["finding", "photo", "sign"].indexOf(e.kind) >= 0) {
      e.fields = e.fields.filter(function (p) { return p[0] !== "client_uuid"; }).concat([["client_uuid", e.id]]);
    }
    if (e.kind === "finding") e.ref = e.id;
    return Promise.all(files.map(function (f) {
      return sha256(f.blob).then(function (h) {
        return { field: f.field, blob: f.blob, filename: f.filename || "file", type: f.type || f.blob.type, sha256: h };
      });
    })).then(function (fs) {
      e.files = fs;
      return dbp.then(function (db) {
        var tx = db.transaction("outbox", "readwrite");
        return tx.store.index("seq").getAll().then(function (list) {
          var mine = list.filter(function (x) { return x.page === e.page && x.user_id === e.user_id && open(x); });
          var last = mine[mine.length - 1];
          if (e.kind === "answer" || e.kind === "result") {
            // the same content as the newest change of this item (a "change" after a "keyup"): nothing new
            var same = list.filter(function (x) {
              return x.page === e.page && x.key === e.key && x.user_id === e.user_id && x.state !== "dismissed";
            }).pop();
            if (same && same.state !== "rejected" && JSON.stringify(same.fields) === JSON.stringify(e.fields)) {
              return tx.done.then(function () { return same; });
            }
            if (last && last.state === "queued" && last.key === e.key && last.url === e.url && last.attempts === 0) {
              last.fields = e.fields; last.created_at = e.created_at;
              e = last;
            }
          }
          tx.store.put(e);
          return tx.done.then(function () { return e; });
        });
      });
    }).then(function (stored) {
      showState(stored);
      overlayEntry(stored);
      document.dispatchEvent(new CustomEvent("suijian:queued", { detail: stored }));
      refreshBanner();
      return stored;
    });
  }

  function fieldsOf(formData) {
    var fields = [], files = [];
    formData.forEach(function (v, n) {
      if (typeof v === "string") fields.push([n, v]);
      else if (v && v.size) files.push({ field: n, blob: v, filename: v.name, type: v.type });
    });
    return { fields: fields, files: files };
  }

  /* Queue a whole form (non-htmx forms, check-in). extra: [[name, value]] set after the form's own fields. */
  function enqueueForm(form, extra, submitter) {
    var fd = submitter ? new FormData(form, submitter) : new FormData(form);
    (extra || []).forEach(function (p) { fd.set(p[0], p[1]); });
    var parts = fieldsOf(fd);
    return enqueue({
      url: form.getAttribute("action") || location.pathname, key: form.getAttribute("data-offline-key"),
      fields: parts.fields, files: parts.files, target: targetSelector(form, form), swap: swapStyle(form),
    });
  }

  // htmx forms: htmx has gathered the request (hx-include, the button, sign.js's strokes); cancel it and queue.
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var d = ev.detail, cfg = d.requestConfig || {}, elt = d.elt || cfg.elt;
    var form = elt && elt.closest && elt.closest("form[data-offline]");
    if (!form || !dbOk || (cfg.verb || "").toLowerCase() !== "post") return;
    ev.preventDefault();
    var parts = fieldsOf(cfg.formData || new FormData(form));
    enqueue({
      url: cfg.path || form.getAttribute("action"), key: form.getAttribute("data-offline-key"),
      fields: parts.fields, files: parts.files,
      target: d.target && d.target.id ? "#" + d.target.id : targetSelector(elt, form), swap: swapStyle(elt),
    }).then(function (entry) {
      if (entry.kind === "finding") { // the finding is in the list now (本机已存): the form is ready for the next
        form.reset();
        setState(form, "queued", t("queued"));
      }
      syncSoon();
    }, function () { setState(form, "rejected", t("storeFailed")); });
  });

  // A note entered without key events (IME commit, voice input) is queued like a typed one: after a pause in
  // its input events the form gets the "change" its hx-trigger listens for (the queue keeps only the newest).
  var inputTimers = new WeakMap();
  document.addEventListener("input", function (ev) {
    var el = ev.target, form = el.closest && el.closest("form[data-offline][hx-trigger]");
    if (!form || el.tagName !== "TEXTAREA" || !window.htmx) return;
    clearTimeout(inputTimers.get(el));
    inputTimers.set(el, setTimeout(function () { htmx.trigger(form, "change"); }, 1500));
  });

  // Other [data-offline] forms (no htmx): the submit event. Forms whose own script prevented it are left alone.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (ev.defaultPrevented || !form.matches || !form.matches("form[data-offline]") || !dbOk) return;
    if (form.hasAttribute("hx-post") || (ev.submitter && ev.submitter.hasAttribute("hx-post"))) return;
    ev.preventDefault();
    enqueueForm(form, null, ev.submitter).then(function () { syncSoon(); });
  });

  // -------------------------------------------------------------------------------------------- item states
  function setState(el, state, text) {
    if (!el) return;
    var span = el.matches && el.matches("[data-sync-state]") ? el : el.querySelector("[data-sync-state]");
    if (!span) return;
    span.setAttribute("data-state", state);
    span.textContent = text;
    span.className = "sync-state sync-" + state;
  }
  function stateText(e) {
    if (e.state === "rejected") return t("rejectedItem", { r: e.error || "" });
    return t(e.state === "sending" ? "sending" : e.state === "synced" ? "synced" : "queued");
  }
  function holderOf(e) {
    if (e.page !== pageKey()) return null;
    if (e.kind === "finding") {
      var li = findingLi(e.ref);
      return (li && li.querySelector("[data-finding-state]")) || document.querySelector('form[data-offline-key="finding:new"]');
    }
    var forms = document.querySelectorAll('form[data-offline-key="' + cssEsc(e.key) + '"]');
    return forms.length ? forms[forms.length - 1] : null;
  }
  function showState(e) {
    if (e.state === "dismissed") return;
    setState(holderOf(e), e.state, stateText(e));
  }

  // ------------------------------------------------------------------------------------------------ overlay
  function fieldVal(e, name) {
    for (var i = e.fields.length - 1; i >= 0; i--) if (e.fields[i][0] === name) return e.fields[i][1];
    return null;
  }
  function findingLi(ref) {
    return document.querySelector('li[data-finding-ref="' + cssEsc(ref) + '"], li[data-finding-client="' + cssEsc(ref) + '"]');
  }
  function photoBox(e) {
    var li = e.ref ? findingLi(e.ref) : null;
    var box = li && li.querySelector(".photos");
    return box || (e.target ? document.querySelector(e.target) : null);
  }
  function pendingThumb(e) {
    var box = photoBox(e), file = e.files.filter(function (f) { return f.field === "photo"; })[0];
    if (!box || !file || !file.blob || box.querySelector('[data-pending-photo="' + cssEsc(e.id) + '"]')) return;
    var img = document.createElement("img");
    img.src = URL.createObjectURL(file.blob);
    img.alt = t("photoPending"); img.width = 96; img.height = 96;
    img.className = "photo-thumb pending";
    img.setAttribute("data-pending-photo", e.id);
    box.appendChild(img);
  }
  function addPendingFinding(e) {
    var tpl = document.getElementById("tpl-finding");
    if (!tpl || findingLi(e.ref)) return;
    var holder = document.createElement("div");
    holder.innerHTML = tpl.innerHTML.split("__REF__").join(e.ref);
    var li = holder.querySelector("li") || holder.firstElementChild;
    if (!li) return;
    var text = fieldVal(e, "text") || "", basis = fieldVal(e, "legal_basis") || "";
    li.setAttribute("data-finding-ref", e.ref);
    li.setAttribute("data-finding-text", text.trim());
    li.setAttribute("data-pending", "");
    li.querySelectorAll("[data-field=text]").forEach(function (el) { el.textContent = text; });
    li.querySelectorAll("[data-field=legal_basis]").forEach(function (el) {
      el.textContent = basis;
      if (!basis && el.parentNode !== li) el.parentNode.hidden = true;
    });
    // the finding's own state, beside its text (the spans inside its forms are for its photos and its deletion)
    var s = document.createElement("span");
    s.setAttribute("data-sync-state", ""); s.setAttribute("aria-live", "polite"); s.setAttribute("data-finding-state", "");
    var head = li.querySelector("[data-field=text]");
    if (head && head.parentNode) head.parentNode.insertBefore(s, head.nextSibling); else li.insertBefore(s, li.firstChild);
    var box = document.getElementById("findings"), list = box && box.querySelector("ol.findings, ul.findings");
    if (box && !list) {
      list = document.createElement("ol"); list.className = "list findings";
      var empty = box.querySelector("p.muted");
      if (empty && !empty.closest("form")) empty.hidden = true;
      var form = box.querySelector('form[data-offline-key="finding:new"]');
      if (form) box.insertBefore(list, form); else box.appendChild(list);
    }
    if (list) list.appendChild(li);
    if (window.htmx) htmx.process(li);
  }
  function overlayEntry(e) {
    if (e.page !== pageKey() || e.state === "dismissed" || e.state === "synced") return;
    var applied = e.state !== "rejected";
    if (applied) {
      if (e.kind === "answer") {
        var li = document.querySelector('li[data-point-id="' + cssEsc(e.ref) + '"]');
        var form = li && li.querySelector("form");
        if (form) {
          var a = fieldVal(e, "answer"), note = fieldVal(e, "note");
          form.querySelectorAll("input[name=answer]").forEach(function (r) { r.checked = a !== null && r.value === a; });
          if (note !== null && form.elements.note && document.activeElement !== form.elements.note) form.elements.note.value = note;
        }
      } else if (e.kind === "result") {
        var rf = document.getElementById("result-form");
        if (rf) ["result", "category", "remarks"].forEach(function (n) {
          var v = fieldVal(e, n);
          if (v !== null && rf.elements[n] && document.activeElement !== rf.elements[n]) rf.elements[n].value = v;
        });
      } else if (e.kind === "finding") {
        addPendingFinding(e);
      } else if (e.kind === "finding-delete") {
        var gone = findingLi(e.ref);
        if (gone) { gone.hidden = true; gone.setAttribute("data-deleted", ""); }
      } else if (e.kind === "photo") {
        pendingThumb(e);
      } else if (e.kind === "start") {
        showStarted(e);
      }
    }
    showState(e);
  }
  function showStarted(e) {
    // the record page (the pack's empty draft): the check-in made on this phone, with the phone's time
    var when = document.getElementById("checkin-time");
    if (when && when.querySelector(".muted") && !when.hasAttribute("data-offline-started")) {
      var at = fieldVal(e, "device_time");
      when.textContent = t("startedOffline") + (at ? " " + hhmm(at) : "");
      when.setAttribute("data-offline-started", "");
    }
    var form = document.getElementById("checkin");
    if (!form || document.getElementById("checkin-offline")) return;
    var p = document.createElement("div");
    p.id = "checkin-offline";
    var line = document.createElement("p");
    line.textContent = t("startedOffline");
    var a = document.createElement("a");
    a.className = "btn primary big-btn"; a.href = e.page; a.textContent = t("continue");
    p.appendChild(line); p.appendChild(a);
    form.hidden = true;
    form.parentNode.insertBefore(p, form);
  }
  function overlayPage() {
    if (!dbOk) return Promise.resolve();
    return allEntries().then(function (list) {
      list.forEach(function (e) { if (e.user_id === USER_ID) overlayEntry(e); });
    });
  }

  // ------------------------------------------------------------------------------------------------ sending
  var token = null, syncing = null, timer = null, netDown = false, authLost = false, lastSyncAt = null, failures = 0;

  function session() {
    return fetch(M.sessionUrl, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("session " + r.status);
      return r.json();
    }).then(function (s) { token = s.csrf_token; return s; });
  }

  function squash(s) { return (s || "").replace(/\s+/g, " ").trim(); }
  // The server's reason, in its words: the alert/error elements of the fragment (a list of differences joined
  // with "；"), else the message paragraph of an error page, else a generic line with the status code.
  function reasonOf(xhr) {
    var body = xhr.responseText || "", ct = xhr.getResponseHeader("Content-Type") || "";
    if (ct.indexOf("json") >= 0) {
      try { var j = JSON.parse(body); if (j.message) return j.message; } catch (err) { /* fall through */ }
    }
    var tpl = document.createElement("template");
    tpl.innerHTML = body;
    var sel = "[role=alert], .error";
    var parts = [];
    tpl.content.querySelectorAll(sel).forEach(function (root) {
      if (root.parentElement && root.parentElement.closest(sel)) return;
      var items = root.querySelectorAll("li"), text;
      if (!items.length) text = squash(root.textContent);
      else {
        var head = Array.prototype.filter.call(root.childNodes, function (n) { return !(n.nodeType === 1 && /^(UL|OL)$/.test(n.tagName)); })
          .map(function (n) { return squash(n.textContent); }).filter(Boolean);
        text = head.concat(Array.prototype.map.call(items, function (li) { return squash(li.textContent); })).join("；");
      }
      if (text && parts.indexOf(text) < 0) parts.push(text);
    });
    if (!parts.length) {
      var p = tpl.content.querySelector("main .card p, main p");
      if (p && squash(p.textContent)) parts.push(squash(p.textContent));
    }
    return (parts.join("；") || t("refusedGeneric", { code: xhr.status })).slice(0, 600);
  }

  function send(e) {
    return new Promise(function (resolve) {
      var fd = new FormData();
      e.fields.forEach(function (p) { fd.append(p[0], p[1]); });
      e.files.forEach(function (f) { if (f.blob) fd.append(f.field, f.blob, f.filename); });
      var xhr = new XMLHttpRequest();
      xhr.open("POST", e.url);
      xhr.timeout = e.files.length ? PHOTO_TIMEOUT : SEND_TIMEOUT;
      xhr.setRequestHeader("X-Client-Id", e.id);
      xhr.setRequestHeader("X-CSRFToken", token || "");
      xhr.setRequestHeader("HX-Request", "true");
      if (e.attempts > 0 || Date.now() - Date.parse(e.created_at) > 10000) xhr.setRequestHeader("X-Offline-Queued", "1");
      if (e.files.length) xhr.upload.onprogress = function (p) {
        if (p.lengthComputable) setState(holderOf(e), "sending", t("sending") + " " + Math.round(p.loaded * 100 / p.total) + "%");
      };
      xhr.onload = function () { resolve(xhr); };
      xhr.onerror = xhr.ontimeout = xhr.onabort = function () { resolve(null); };
      xhr.send(fd);
    });
  }

  function swapIn(e, xhr) {
    if (e.page !== pageKey() || !window.htmx) return;
    var sel = xhr.getResponseHeader("HX-Retarget") || e.target;
    var style = xhr.getResponseHeader("HX-Reswap") || e.swap || "innerHTML";
    var target = sel ? document.querySelector(sel) : null;
    if (e.kind === "photo") {
      var pend = document.querySelector('[data-pending-photo="' + cssEsc(e.id) + '"]');
      var box = pend ? pend.parentNode : photoBox(e);
      if (pend) { URL.revokeObjectURL(pend.src); pend.remove(); }
      if (box && xhr.responseText) box.insertAdjacentHTML("beforeend", xhr.responseText);
      return;
    }
    if (e.kind === "finding-delete") {
      var li = findingLi(e.ref);
      if (li) li.remove();
    }
    if (!target || !xhr.responseText) return;
    try {
      htmx.swap(target, xhr.responseText, { swapStyle: style.split(/\s+/)[0] });
    } catch (err) {
      target.innerHTML = xhr.responseText;
      htmx.process(target);
    }
  }

  function backoff(attempts) { return Math.min(BACKOFF_MAX, BACKOFF_MIN * Math.pow(2, Math.max(0, attempts - 1))); }

  /* Send one entry; resolves "ok" | "rejected" | "retry" | "auth". */
  // Marks the stored entry "sending" in one transaction and returns it as stored: a change coalesced into it
  // a moment ago is sent, and one made from now on gets an entry of its own (see enqueue).
  function claim(id) {
    return dbp.then(function (db) {
      var tx = db.transaction("outbox", "readwrite");
      return tx.store.get(id).then(function (cur) {
        if (!cur || !open(cur)) return tx.done.then(function () { return null; });
        cur.state = "sending";
        tx.store.put(cur);
        return tx.done.then(function () { return cur; });
      });
    });
  }

  function sendOne(stale, retried) {
    var e;
    return claim(stale.id).then(function (cur) {
      if (!cur) return "skip";
      e = cur;
      return sendClaimed(e, retried);
    });
  }

  function sendClaimed(e, retried) {
    return Promise.resolve().then(function () {
      showState(e);
      return send(e);
    }).then(function (xhr) {
      var st = xhr ? xhr.status : 0;
      if (st === 401) {
        e.state = "queued"; authLost = true;
        var msg = "";
        try { msg = JSON.parse(xhr.responseText).message; } catch (err) { /* default text */ }
        M.authText = msg || t("authExpired");
        return putEntry(e).then(function () { showState(e); return "auth"; });
      }
      if (st === 400 && !retried) {
        return session().then(function () { return sendClaimed(e, true); }, function () { return "retry"; });
      }
      if (st >= 200 && st < 300) {
        var want = (e.files.filter(function (f) { return f.field === "photo"; })[0] || {}).sha256;
        var got = (xhr.getResponseHeader("X-Content-SHA256") || "").toLowerCase();
        if (e.kind === "photo" && want && got !== want) {
          e.attempts += 1; e.state = e.attempts >= 3 ? "rejected" : "queued";
          e.error = t("photoMismatch"); e.next_try_at = Date.now() + backoff(e.attempts);
          return putEntry(e).then(function () { showState(e); return e.state === "rejected" ? "rejected" : "retry"; });
        }
        e.state = "synced"; e.synced_at = new Date().toISOString(); e.error = "";
        e.files.forEach(function (f) { f.blob = null; }); // the server has the bytes (checked above for photos)
        e.redirect = xhr.getResponseHeader("HX-Redirect") || null;
        return putEntry(e).then(function () {
          swapIn(e, xhr);
          overlayPage().then(function () { showState(e); });
          document.dispatchEvent(new CustomEvent("suijian:synced", { detail: e }));
          return "ok";
        });
      }
      // 409 with Retry-After: the same change is being applied by another request right now; ask again later
      var later = st === 409 && xhr.getResponseHeader("Retry-After");
      if (st >= 400 && st < 500 && st !== 408 && st !== 429 && !later) {
        e.state = "rejected"; e.error = reasonOf(xhr);
        if (st === 422 && e.page === pageKey() && e.target && xhr.responseText && e.kind !== "answer") swapIn(e, xhr);
        return putEntry(e).then(function () {
          overlayPage().then(function () { showState(e); });
          document.dispatchEvent(new CustomEvent("suijian:rejected", { detail: e }));
          return "rejected";
        });
      }
      // 5xx, 408/429, network error, timeout: keep it, try again later
      e.state = "queued"; e.attempts += 1; e.next_try_at = Date.now() + backoff(e.attempts);
      if (!xhr) netDown = true;
      return putEntry(e).then(function () { showState(e); return "retry"; });
    });
  }

  // One run: every open entry of this user, oldest first. Stops at the first entry the server could not take
  // (network, 5xx): the order is kept. Resolves "ok" | "retry" | "auth" | "idle" | "busy".
  function run() {
    return allEntries().then(function (list) {
      // an entry left "sending" by a closed page is sent again (the server replays it if it had arrived)
      var mine = list.filter(function (e) { return open(e) && e.user_id === USER_ID; });
      if (!mine.length) { netDown = !navigator.onLine; return "idle"; }
      return session().then(function (s) {
        netDown = false;
        if (!s.user_id) { authLost = true; M.authText = t("authExpired"); return "auth"; }
        if (s.user_id !== USER_ID) { // another account is logged in than this page's: send nothing
          authLost = true; M.authText = t("otherSession"); return "auth";
        }
        authLost = false;
        var outcome = "ok";
        return mine.reduce(function (p, e) {
          return p.then(function () {
            if (outcome === "retry" || outcome === "auth") return;
            return sendOne(e, false).then(function (r) { if (r === "retry" || r === "auth") outcome = r; });
          });
        }, Promise.resolve()).then(function () { return outcome; });
      }, function () { netDown = true; return "retry"; });
    });
  }

  function syncNow() {
    if (syncing) return syncing;
    if (!dbOk) return Promise.resolve();
    clearTimeout(timer);
    // one tab at a time sends (Web Locks where the browser has them): no change goes out twice at once
    var locked = navigator.locks && navigator.locks.request ? navigator.locks.request("suijian-sync", { ifAvailable: true },
      function (lock) { return lock ? run() : "busy"; }) : run();
    syncing = locked.then(function (outcome) {
      if (outcome === "ok") {
        lastSyncAt = new Date().toISOString();
        setMeta("last_sync_at", lastSyncAt);
        followRedirect();
        reportStatus();
      } else if (outcome === "idle" && navigator.onLine && M.pack === "1") {
        reportStatus(REPORT_IDLE_EVERY); // nothing waiting: still tell the 工作台 now and then that all is sent
      }
      return outcome;
    }).catch(function () { return "retry"; }).then(function (outcome) {
      syncing = null;
      failures = outcome === "retry" || outcome === "busy" ? failures + 1 : 0;
      refreshBanner();
      renderDevice();
      return scheduleNext().then(function () { return outcome; });
    });
    return syncing;
  }
  function syncSoon() { setTimeout(syncNow, 0); }

  function scheduleNext() {
    return allEntries().then(function (list) {
      var waiting = list.filter(function (e) { return e.state === "queued" && e.user_id === USER_ID; });
      clearTimeout(timer);
      if (!waiting.length || authLost) return;
      // after a failed run wait (5 s, 10 s … 5 min, never giving up); else go on with what came in meanwhile
      var next = Math.min.apply(null, waiting.map(function (e) { return e.next_try_at || 0; }));
      var wait = failures ? Math.max(backoff(failures), next - Date.now()) : next - Date.now();
      timer = setTimeout(syncNow, Math.max(0, Math.min(BACKOFF_MAX, wait)));
    });
  }

  // After check-in, partner presence or submit were confirmed for this page, go where the server sends us.
  function followRedirect() {
    allEntries().then(function (list) {
      var here = list.filter(function (e) { return e.page === pageKey() && e.user_id === USER_ID; });
      if (here.some(open)) return;
      var done = here.filter(function (e) {
        return e.state === "synced" && e.redirect && !e.redirected && ["start", "partner", "submit"].indexOf(e.kind) >= 0;
      });
      if (!done.length) return;
      var last = done[done.length - 1];
      Promise.all(done.map(function (e) { e.redirected = true; return putEntry(e); })).then(function () {
        location.href = last.redirect;
      });
    });
  }

  // ----------------------------------------------------------------------------------------------- banner
  var banner = document.getElementById("offline-banner");
  function bannerPart(name) { return banner ? banner.querySelector('[data-banner="' + name + '"]') : null; }
  function show(name, text) {
    var el = bannerPart(name);
    if (!el) return;
    var span = el.querySelector("[data-text]") || el;
    if (text) span.textContent = text;
    el.hidden = !text;
  }
  function packMeta() {
    if (!window.caches) return Promise.resolve(null);
    return caches.match("/offline/__pack_meta__").then(function (r) { return r ? r.json() : null; }).catch(function () { return null; });
  }
  function refreshBanner() {
    if (!banner || !dbOk) return Promise.resolve();
    return Promise.all([allEntries(), packMeta()]).then(function (r) {
      var list = r[0], meta = r[1];
      var mine = list.filter(function (e) { return e.user_id === USER_ID; });
      var pending = mine.filter(open).length, rejected = mine.filter(function (e) { return e.state === "rejected"; }).length;
      var others = list.filter(function (e) { return e.user_id !== USER_ID && (open(e) || e.state === "rejected"); });
      var offline = !navigator.onLine || netDown;
      banner.setAttribute("data-offline-state", offline ? "offline" : "online");
      show("offline", offline ? t("offline") : "");
      show("pending", pending ? t("pending", { n: pending }) : "");
      show("rejected", rejected ? t("rejected", { n: rejected }) : "");
      var pe = bannerPart("pending"), re = bannerPart("rejected");
      if (pe) pe.setAttribute("data-count", pending);
      if (re) re.setAttribute("data-count", rejected);
      show("auth", authLost ? (M.authText || t("authExpired")) : "");
      var names = others.map(function (e) { return e.user_name || ("#" + e.user_id); })
        .filter(function (n, i, a) { return a.indexOf(n) === i; });
      show("other", others.length ? t("otherUser", { names: names.join("、"), n: others.length }) : "");
      // 我的任务: the tasks whose changes are still on this phone
      document.querySelectorAll("[data-offline-record]").forEach(function (row) {
        var n = mine.filter(function (e) { return open(e) && e.page === row.getAttribute("data-offline-record"); }).length;
        var tag = row.querySelector("[data-task-pending]");
        if (!tag) return;
        tag.textContent = n ? t("taskPending", { n: n }) : "";
        tag.hidden = !n;
      });
      var genAt = meta && meta.user_id === USER_ID ? meta.generated_at : null;
      show("updated", genAt ? t("updated", { t: hhmm(genAt) }) : "");
      var btn = banner.querySelector("[data-sync-now]");
      if (btn) btn.hidden = !(pending || rejected);
      banner.hidden = !(offline || pending || rejected || authLost || others.length || genAt);
      banner.classList.toggle("is-offline", offline);
      banner.classList.toggle("is-warn", !!(rejected || authLost || others.length));
    });
  }

  // ------------------------------------------------------------------------------------ pack and worker
  function refreshPack(force) {
    if (M.pack !== "1" || !navigator.onLine || !navigator.serviceWorker) return Promise.resolve();
    return getMeta("pack_tried_at").then(function (at) {
      if (!force && at && Date.now() - at < PACK_EVERY) return;
      return navigator.serviceWorker.ready.then(function (reg) {
        var worker = reg.active;
        if (!worker) return;
        return setMeta("pack_tried_at", Date.now()).then(function () {
          return new Promise(function (resolve) {
            var ch = new MessageChannel();
            ch.port1.onmessage = function (m) { resolve(m.data); };
            worker.postMessage({ type: "pack" }, [ch.port2]);
          });
        }).then(function (meta) {
          document.dispatchEvent(new CustomEvent("suijian:pack", { detail: meta }));
          refreshBanner();
        });
      });
    });
  }
  if (navigator.serviceWorker && M.sw) {
    navigator.serviceWorker.register(M.sw, { scope: "/" }).then(function () {
      var onMe = location.pathname === M.meUrl;
      refreshPack(onMe);
    }).catch(function () { /* no worker (e.g. http on a LAN address): the outbox still works while the tab lives */ });
  }

  // Logout clears the cached pages (another person may use this phone next), never the outbox.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.matches || !form.matches("form[data-logout]") || !window.caches || form.dataset.cleared) return;
    ev.preventDefault();
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n.indexOf("suijian-pages-") === 0; })
        .map(function (n) { return caches.delete(n); }));
    }).catch(function () { /* nothing cached */ }).then(function () {
      form.dataset.cleared = "1";
      return setMeta("pack_tried_at", 0);
    }).catch(function () { /* no database */ }).then(function () { form.submit(); });
  });

  // ------------------------------------------------------------------------------------------- device page
  function fmtBytes(n) {
    if (n == null) return "—";
    if (n < 1048576) return (n / 1024).toFixed(0) + " KB";
    if (n < 1073741824) return (n / 1048576).toFixed(1) + " MB";
    return (n / 1073741824).toFixed(1) + " GB";
  }
  function storageFigures() {
    var s = navigator.storage;
    if (!s || !s.estimate) return Promise.resolve({ usage: null, quota: null, persisted: null });
    return Promise.all([s.estimate(), s.persisted ? s.persisted() : Promise.resolve(null)]).then(function (r) {
      return { usage: r[0].usage, quota: r[0].quota, persisted: r[1] };
    });
  }
  function renderDevice() {
    var st = document.getElementById("device-storage"), pe = document.getElementById("device-persist");
    var q = document.getElementById("device-queue");
    if (!st && !pe && !q) return Promise.resolve();
    return Promise.all([storageFigures(), allEntries()]).then(function (r) {
      var fig = r[0], list = r[1];
      if (st) st.textContent = t("storage", { u: fmtBytes(fig.usage), q: fmtBytes(fig.quota) });
      if (pe && pe.getAttribute("data-persisted") == null) {
        pe.setAttribute("data-persisted", String(!!fig.persisted));
        pe.textContent = fig.persisted ? t("persistGranted") : t("persistDenied");
      }
      if (!q) return;
      q.textContent = "";
      if (q.tagName !== "UL" && q.tagName !== "OL") {
        var ul = document.createElement("ul");
        ul.className = "list queue";
        q.appendChild(ul);
        q = ul;
      }
      var shown = list.filter(function (e) { return e.state !== "dismissed"; }).reverse();
      if (!shown.length) {
        var none = document.createElement("li");
        none.className = "muted"; none.textContent = t("queueEmpty");
        q.appendChild(none);
      }
      shown.forEach(function (e) {
        var li = document.createElement("li");
        li.setAttribute("data-state", e.state); li.setAttribute("data-id", e.id);
        var title = document.createElement("span");
        title.className = "title";
        title.textContent = (M["kind" + e.kind.replace(/(^|-)(\w)/g, function (m, a, b) { return b.toUpperCase(); })] || t("kindOther")) +
          " · " + hhmm(e.created_at) + (e.user_id !== USER_ID ? " · " + (e.user_name || "#" + e.user_id) : "");
        var sub = document.createElement("span");
        sub.className = "sub sync-state sync-" + e.state;
        sub.textContent = stateText(e);
        li.appendChild(title); li.appendChild(sub);
        if (e.state === "rejected") {
          var b = document.createElement("button");
          b.type = "button"; b.className = "btn small"; b.textContent = t("dismiss");
          b.setAttribute("data-dismiss", e.id);
          li.appendChild(b);
        }
        q.appendChild(li);
      });
    });
  }
  function requestPersist() {
    var pe = document.getElementById("device-persist");
    if (!pe || !navigator.storage || !navigator.storage.persist) return;
    navigator.storage.persist().then(function (granted) {
      pe.setAttribute("data-persisted", String(!!granted));
      pe.textContent = granted ? t("persistGranted") : t("persistDenied");
    });
  }
  function b64(blob) {
    return new Promise(function (resolve) {
      var r = new FileReader();
      r.onload = function () { resolve(String(r.result).split(",")[1] || ""); };
      r.onerror = function () { resolve(""); };
      r.readAsDataURL(blob);
    });
  }
  function exportOutbox() {
    return allEntries().then(function (list) {
      var mine = list.filter(function (e) { return e.user_id === USER_ID && (open(e) || e.state === "rejected"); });
      return Promise.all(mine.map(function (e) {
        return Promise.all(e.files.filter(function (f) { return f.blob; }).map(function (f) {
          return b64(f.blob).then(function (data) {
            return { field: f.field, filename: f.filename, type: f.type, sha256: f.sha256, data: data };
          });
        })).then(function (files) {
          return { id: e.id, url: e.url, method: "POST", fields: e.fields, files: files, created_at: e.created_at };
        });
      }));
    }).then(function (entries) {
      var doc = { format: "suijian-outbox/1", user_id: USER_ID, exported_at: new Date().toISOString(), entries: entries };
      var blob = new Blob([JSON.stringify(doc)], { type: "application/json" });
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = "suijian-outbox-" + new Date().toISOString().slice(0, 16).replace(/[-:T]/g, "") + ".json";
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
      return doc;
    });
  }

  // Figures for the supervisors' 工作台, whenever a sync went through.
  function reportStatus(every) {
    if (!M.statusUrl) return Promise.resolve();
    return getMeta("reported_at").then(function (at) {
      if (every && at && Date.now() - at < every) return;
      return (token ? Promise.resolve() : session()).then(report);
    }).catch(function () { /* next time */ });
  }
  function report() {
    return Promise.all([deviceId(), allEntries(), storageFigures()]).then(function (r) {
      var mine = r[1].filter(function (e) { return e.user_id === USER_ID; });
      var pend = mine.filter(open);
      var body = {
        device_id: r[0], pending: pend.length,
        rejected: mine.filter(function (e) { return e.state === "rejected"; }).length,
        last_sync_at: lastSyncAt, oldest_pending_at: pend.length ? pend[0].created_at : null,
        storage: { usage: r[2].usage, quota: r[2].quota, persisted: r[2].persisted },
      };
      return fetch(M.statusUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token }, body: JSON.stringify(body),
      }).then(function (res) { if (res.ok) return setMeta("reported_at", Date.now()); });
    });
  }

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest && ev.target.closest("[data-sync-now], [data-export], [data-dismiss]");
    if (!el) return;
    ev.preventDefault();
    if (el.hasAttribute("data-sync-now")) {
      // 立即同步 also retries what is waiting for its back-off, and offers refused items once more
      allEntries().then(function (list) {
        return Promise.all(list.filter(function (e) { return e.user_id === USER_ID && e.state === "queued"; })
          .map(function (e) { e.next_try_at = 0; return putEntry(e); }));
      }).then(syncNow);
    } else if (el.hasAttribute("data-export")) {
      exportOutbox();
    } else {
      dbp.then(function (db) { return db.get("outbox", el.getAttribute("data-dismiss")); }).then(function (e) {
        if (!e) return;
        e.state = "dismissed";
        return putEntry(e);
      }).then(function () { refreshBanner(); renderDevice(); });
    }
  });

  // ------------------------------------------------------------------------------------------- start-up
  function purge() {
    return dbp.then(function (db) {
      var tx = db.transaction("outbox", "readwrite");
      return tx.store.getAll().then(function (list) {
        list.forEach(function (e) {
          if (e.state === "synced" && Date.now() - Date.parse(e.synced_at) > KEEP_SYNCED) tx.store.delete(e.id);
        });
        return tx.done;
      });
    });
  }
  function start() {
    dbp.then(function () {
      return getMeta("last_sync_at").then(function (v) { lastSyncAt = v || null; });
    }).then(purge).then(overlayPage).then(refreshBanner).then(function () {
      renderDevice();
      requestPersist();
      syncNow();
    }).catch(function () { /* IndexedDB refused (private mode): forms go straight to the server */ });
  }
  window.addEventListener("online", function () { netDown = false; refreshBanner(); syncNow(); refreshPack(false); });
  window.addEventListener("offline", refreshBanner);
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "visible") { syncNow(); refreshBanner(); } });
  // a swap (htmx or ours) may bring back forms whose state or queued values we show
  document.addEventListener("htmx:afterSettle", function () { overlayPage(); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();

  window.SuiJianOffline = {
    enqueue: enqueue, enqueueForm: enqueueForm, syncNow: syncNow, t: t, uuid: uuid, sha256: sha256,
    ready: function () { return dbp.then(function () { return dbOk; }); },
    entries: allEntries, refreshBanner: refreshBanner, exportOutbox: exportOutbox,
    online: function () { return navigator.onLine && !netDown; },
  };
})();
