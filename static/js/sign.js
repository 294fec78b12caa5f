/* Signature pad on the record page: sized to its box (fits a 360 px screen), strokes sent as vector data.
 * At signing, the hidden field `seen` gets what the screen shows (answers, findings, result), so the server
 * refuses the signature (409, with the differences) when its record differs; the request goes through the
 * outbox (static/js/offline.js) like every other change. */
(function () {
  "use strict";
  var pad = null;
  function setup() {
    var form = document.getElementById("sign-form");
    if (!form || !window.SignaturePad) return;
    var canvas = form.querySelector("canvas"), box = canvas.parentNode;
    var ratio = Math.max(window.devicePixelRatio || 1, 1), w = box.clientWidth, h = 200;
    canvas.style.width = w + "px"; canvas.style.height = h + "px";
    canvas.width = w * ratio; canvas.height = h * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad = new SignaturePad(canvas, { minDistance: 5 });
    form.querySelector("[data-clear]").onclick = function () { pad.clear(); };
    var sel = form.querySelector("select[name=signer]");
    var show = function () {
      form.querySelectorAll("[data-for=unit]").forEach(function (el) { el.hidden = sel.value !== "unit"; });
      var proxy = sel.selectedOptions.length > 0 && sel.selectedOptions[0].hasAttribute("data-proxy");
      form.querySelectorAll("[data-for=proxy]").forEach(function (el) { el.hidden = !proxy; });
    };
    sel.onchange = show; show();
  }
  function strip(s) { return (s || "").trim(); }
  // The contract's shape: answers only for points with an answer or a note; findings in screen order.
  function seen() {
    var answers = {};
    document.querySelectorAll("li[data-point-id]").forEach(function (li) {
      var checked = li.querySelector("input[name=answer]:checked"), note = li.querySelector("textarea[name=note]");
      var a = checked ? checked.value : "", n = strip(note && note.value);
      if (a || n) answers[li.getAttribute("data-point-id")] = { answer: a, note: n };
    });
    var findings = [];
    document.querySelectorAll("li[data-finding-ref]").forEach(function (li) {
      if (li.hidden || li.hasAttribute("data-deleted")) return;
      findings.push(strip(li.getAttribute("data-finding-text")));
    });
    var rf = document.getElementById("result-form"), el = rf ? rf.elements : {};
    return {
      answers: answers, findings: findings,
      result: el.result ? el.result.value : "", category: el.category ? el.category.value : "",
      remarks: strip(el.remarks && el.remarks.value),
    };
  }
  function fill(form) {
    if (form.elements.seen) form.elements.seen.value = JSON.stringify(seen());
    if (!pad) return;
    var c = form.querySelector("canvas");
    form.elements.strokes.value = pad.isEmpty() ? "" : JSON.stringify(pad.toData());
    form.elements.width.value = parseInt(c.style.width, 10);
    form.elements.height.value = parseInt(c.style.height, 10);
  }
  // runs before htmx reads the form (capture phase on the document)
  document.addEventListener("submit", function (e) { if (e.target.id === "sign-form") fill(e.target); }, true);
  document.addEventListener("htmx:configRequest", function (e) {
    var f = e.detail.elt.closest && e.detail.elt.closest("#sign-form");
    if (!f) return;
    fill(f);
    ["strokes", "width", "height", "seen"].forEach(function (k) {
      if (f.elements[k]) e.detail.parameters[k] = f.elements[k].value;
    });
  });
  // queued: clear the pad for the next signer; refused: list the server's differences under the form
  document.addEventListener("suijian:queued", function (e) {
    if (e.detail.kind === "sign" && pad) pad.clear();
  });
  document.addEventListener("suijian:rejected", function (e) {
    var form = document.getElementById("sign-form");
    if (e.detail.kind !== "sign" || !form) return;
    var ul = form.querySelector("ul.sign-diff");
    if (!ul) { ul = document.createElement("ul"); ul.className = "sign-diff error"; form.appendChild(ul); }
    ul.textContent = "";
    (e.detail.error || "").split("；").forEach(function (line) {
      if (!line.trim()) return;
      var li = document.createElement("li");
      li.textContent = line.trim();
      ul.appendChild(li);
    });
  });
  document.addEventListener("htmx:afterSwap", function (e) { if (e.target.id === "signatures") setup(); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup); else setup();
})();
