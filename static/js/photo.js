/* Photo upload for findings: downscale in the browser (long side <= 1600 px), upload with progress, retry. */
(function () {
  "use strict";
  var MAX = 1600, TRIES = 4, M = {};
  function t(k) { // messages come from the page (Flask-Babel), data-* on #photo-msgs
    if (!M[k]) { var el = document.getElementById("photo-msgs"); M[k] = (el && el.dataset[k]) || k; }
    return M[k];
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
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
        c.toBlob(function (b) { resolve(b || file); }, "image/jpeg", 0.85);
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
  function send(form, blob, id, status, attempt, exif) {
    var fd = new FormData(form), xhr = new XMLHttpRequest();
    fd.set("photo", blob, "photo.jpg");
    if (exif) fd.set("exif", exif, "exif.bin");
    fd.set("client_uuid", id);
    xhr.open("POST", form.action);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) status.textContent = t("uploading") + " " + Math.round(e.loaded * 100 / e.total) + "%";
    };
    xhr.onload = function () {
      if (xhr.status === 201 || xhr.status === 200) {
        document.getElementById(form.dataset.target).insertAdjacentHTML("beforeend", xhr.responseText);
        status.textContent = t("done");
      } else if (xhr.status >= 400 && xhr.status < 500) {
        status.innerHTML = xhr.responseText; // the server's Chinese message (422: not an image, too big …)
      } else { retry(); }
    };
    xhr.onerror = retry;
    function retry() {
      if (attempt + 1 >= TRIES) {
        status.textContent = t("failed");
        var b = document.createElement("button");
        b.type = "button"; b.className = "link"; b.textContent = t("retry");
        b.onclick = function () { send(form, blob, id, status, 0, exif); };
        status.appendChild(b);
        return;
      }
      status.textContent = t("retrying");
      setTimeout(function () { send(form, blob, id, status, attempt + 1, exif); }, 1000 * Math.pow(2, attempt));
    }
    xhr.send(fd);
  }
  document.addEventListener("change", function (e) {
    var input = e.target, form = input.closest && input.closest("form.photo-upload");
    if (!form || input.type !== "file" || !input.files.length) return;
    var status = form.querySelector(".upload-status");
    Array.prototype.forEach.call(input.files, function (file) {
      status.textContent = t("processing");
      Promise.all([shrink(file), exifOf(file)]).then(function (r) { send(form, r[0], uuid(), status, 0, r[1]); });
    });
    input.value = "";
  });
})();
