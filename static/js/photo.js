/* Photos for findings: downscaled on the phone (long side <= 1600 px, JPEG 0.8), several at once, each one an
 * outbox entry with its blob and SHA-256 (static/js/offline.js sends it and keeps the blob until the server's
 * X-Content-SHA256 matches). A photo for a finding made offline goes to the finding's client id (__REF__ in
 * <template id="tpl-finding"> is replaced by it). Texts come from the page (#photo-msgs, Flask-Babel). */
(function () {
  "use strict";
  var MAX = 1600, QUALITY = 0.8, M = {};
  function t(k) {
    if (!M[k]) { var el = document.getElementById("photo-msgs"); M[k] = (el && el.dataset[k]) || k; }
    return M[k];
  }
  function shrink(file) {
    return new Promise(function (resolve) {
      var url = URL.createObjectURL(file), img = new Image();
      img.onload = function () {
        var w = img.naturalWidth, h = img.naturalHeight, k = Math.min(1, MAX / Math.max(w, h));
        if (k === 1 && file.type === "image/jpeg") { URL.revokeObjectURL(url); return resolve(file); }
        var c = document.createElement("canvas");
        c.width = Math.round(w * k); c.height = Math.round(h * k);
        c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
        URL.revokeObjectURL(url);
        c.toBlob(function (b) { resolve(b || file); }, "image/jpeg", QUALITY);
      };
      img.onerror = function () { URL.revokeObjectURL(url); resolve(file); }; // let the server explain
      img.src = url;
    });
  }
  // The canvas drops all metadata: send the original's EXIF block (capture time, GPS) beside the image.
  function exifOf(file) {
    if (!file.slice || !file.arrayBuffer) return Promise.resolve(null);
    return file.slice(0, 131072).arrayBuffer().then(function (buf) {
      var v = new DataView(buf), off = 2;
      if (buf.byteLength < 4 || v.getUint16(0) !== 0xFFD8) return null;
      while (off + 4 <= buf.byteLength) {
        var marker = v.getUint16(off), len = v.getUint16(off + 2);
        if ((marker & 0xFF00) !== 0xFF00 || marker === 0xFFDA) return null;
        if (marker === 0xFFE1 && v.getUint32(off + 4) === 0x45786966) {  // "Exif"
          return new Blob([buf.slice(off + 4, Math.min(off + 2 + len, buf.byteLength))]);
        }
        off += 2 + len;
      }
      return null;
    }).catch(function () { return null; });
  }
  function keyOf(form) {
    if (form.dataset.offlineKey) return form.dataset.offlineKey;
    var m = /\/findings\/([^/]+)\/photos/.exec(form.getAttribute("action") || "");
    return "photo:" + (m ? m[1] : "");
  }
  // Without the outbox (no IndexedDB): one plain upload, the server's answer shown as it comes.
  function direct(form, blob, exif, status) {
    var fd = new FormData(form), xhr = new XMLHttpRequest();
    fd.set("photo", blob, "photo.jpg");
    if (exif) fd.set("exif", exif, "exif.bin");
    xhr.open("POST", form.action);
    xhr.onload = function () {
      var box = document.getElementById(form.dataset.target);
      if (xhr.status < 300 && box) { box.insertAdjacentHTML("beforeend", xhr.responseText); status.textContent = t("done"); }
      else status.textContent = t("failed");
    };
    xhr.onerror = function () { status.textContent = t("failed"); };
    xhr.send(fd);
  }
  function queue(form, file) {
    var off = window.SuiJianOffline, status = form.querySelector(".upload-status") || form.querySelector("[data-sync-state]");
    if (status) status.textContent = t("processing");
    return Promise.all([shrink(file), exifOf(file)]).then(function (r) {
      var blob = r[0], exif = r[1];
      return (off ? off.ready() : Promise.resolve(false)).then(function (ok) {
        if (!ok) return direct(form, blob, exif, status);
        var id = off.uuid(), fields = [];
        new FormData(form).forEach(function (v, n) { if (typeof v === "string" && n !== "client_uuid") fields.push([n, v]); });
        fields.push(["client_uuid", id]);
        var files = [{ field: "photo", blob: blob, filename: "photo.jpg", type: "image/jpeg" }];
        if (exif) files.push({ field: "exif", blob: exif, filename: "exif.bin", type: "application/octet-stream" });
        return off.enqueue({
          id: id, url: form.getAttribute("action"), key: keyOf(form), fields: fields, files: files,
          target: form.dataset.target ? "#" + form.dataset.target : null, swap: "beforeend",
        }).then(function () { if (status && status.matches(".upload-status")) status.textContent = ""; });
      });
    });
  }
  function isPhotoForm(form) {
    return form && (form.classList.contains("photo-upload") || /^photo:/.test(form.dataset.offlineKey || ""));
  }
  function onChange(e) {
    var input = e.target, form = input.closest("form");
    if (!isPhotoForm(form) || !input.files.length) return;
    var files = Array.prototype.slice.call(input.files);
    input.value = "";
    // one after the other: the queue keeps the order they were picked in
    files.reduce(function (p, file) { return p.then(function () { return queue(form, file); }); }, Promise.resolve())
      .then(function () { if (window.SuiJianOffline) window.SuiJianOffline.syncNow(); });
  }
  // The listener sits on each input, not on the document: a finding made a moment ago is re-rendered by the
  // server while the camera is open, and the change event of the replaced (detached) input would never reach
  // the document. Its form still names the finding, so the photo is kept all the same.
  var bound = new WeakSet();
  function bind(root) {
    var r = root || document, inputs = Array.prototype.slice.call(r.querySelectorAll("form input[type=file]"));
    if (r.matches && r.matches("input[type=file]")) inputs.push(r);
    inputs.forEach(function (input) {
      if (bound.has(input) || !isPhotoForm(input.closest("form"))) return;
      bound.add(input);
      input.multiple = true;
      input.addEventListener("change", onChange);
    });
  }
  if (window.MutationObserver) {
    new MutationObserver(function (records) {
      records.forEach(function (r) { r.addedNodes.forEach(function (n) { if (n.nodeType === 1) bind(n); }); });
    }).observe(document.documentElement, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { bind(); });
  else bind();
})();
