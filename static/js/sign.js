/* Signature pad on the record page: sized to its box (fits a 360 px screen), strokes sent as vector data. */
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
  function fill(form) {
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
    if (!f || !pad) return;
    fill(f);
    ["strokes", "width", "height"].forEach(function (k) { e.detail.parameters[k] = f.elements[k].value; });
  });
  document.addEventListener("htmx:afterSwap", function (e) { if (e.target.id === "signatures") setup(); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup); else setup();
})();
