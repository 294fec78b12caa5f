/* Signature pad on the record page: sized to its box (fits a 360 px screen), strokes sent as vector data.
 * At signing, the hidden field `seen` gets what the screen shows (answers, findings, result), so the server
 * refuses the signature (409, with the differences) when its record differs; the request goes through the
 * outbox (static/js/offline.js) like every other change. An empty pad is not sent: "请先签名" stands under it.
 * After a signature the signer menu moves on to the next one who has not signed (option[data-signed]).
 * Errors on the record page's forms (a 422 fragment, a refused change, a page rendered with errors): the first
 * one is scrolled into view and its field focused and marked aria-invalid. */
(function () {
  "use strict";
  var pad = null, lastSigned = null;

  // ------------------------------------------------------------------------------ the first error, in view
  function visible(el) { return !!el && !el.hidden && !el.closest("[hidden]") && (el.textContent || "").trim() !== ""; }
  function fieldOf(err) {
    if (err.id) {
      var by = document.querySelector('[aria-describedby~="' + err.id + '"]');
      if (by) return by;
    }
    var box = err.closest(".field");
    return box ? box.querySelector("input:not([type=hidden]), select, textarea") : null;
  }
  function focusFirstError(root, selector) {
    if (!root || !root.querySelectorAll) return false;
    var err = Array.prototype.filter.call(root.querySelectorAll(selector || ".error, [role=alert]"), visible)[0];
    if (!err) return false;
    var field = fieldOf(err), det = err.closest("details");
    if (det) det.open = true;
    var target = err;
    if (field && !field.disabled && !field.closest("[hidden]")) {
      field.setAttribute("aria-invalid", "true");
      if (err.id && (field.getAttribute("aria-describedby") || "").split(" ").indexOf(err.id) < 0) {
        field.setAttribute("aria-describedby", ((field.getAttribute("aria-describedby") || "") + " " + err.id).trim());
      }
      target = field;
    } else if (!err.hasAttribute("tabindex")) {
      err.setAttribute("tabindex", "-1");
    }
    (field && field.closest(".field") || err).scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
    return true;
  }
  // a form swapped back with errors (htmx, 422)
  document.addEventListener("htmx:afterSettle", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.status === 422) focusFirstError(e.detail.target);
  });
  // a refused change from the outbox: its reason stands in the form (or the fragment offline.js swapped in)
  document.addEventListener("suijian:rejected", function (e) {
    setTimeout(function () {
      var target = e.detail.target && document.querySelector(e.detail.target);
      if (focusFirstError(target)) return;
      var st = document.querySelector('[data-offline-key="' + e.detail.key + '"] [data-sync-state]');
      if (st && visible(st)) { st.setAttribute("tabindex", "-1"); st.scrollIntoView({ block: "center" }); st.focus({ preventScroll: true }); }
    }, 0);
  });

  // --------------------------------------------------------------------------------------------- the signer
  function signed(opt) { return opt.hasAttribute("data-signed"); }
  // after ``key`` signed: the next option (in order, wrapping) of someone who has not signed
  function moveSigner(sel, key) {
    var opts = Array.prototype.slice.call(sel.options), i = opts.findIndex(function (o) { return o.value === key; });
    if (i >= 0) opts[i].setAttribute("data-signed", "");
    for (var k = 1; k <= opts.length; k++) {
      var o = opts[(i + k) % opts.length];
      if (!signed(o)) { sel.value = o.value; break; }
    }
    sel.dispatchEvent(new Event("change"));
  }
  function emptyPad(form) {
    var err = form.querySelector("#strokes-err"), canvas = form.querySelector("canvas");
    if (err) { err.textContent = form.dataset.emptyMsg || ""; err.hidden = false; }
    if (canvas) { canvas.setAttribute("aria-invalid", "true"); canvas.scrollIntoView({ block: "center" }); canvas.focus({ preventScroll: true }); }
  }

  function setup() {
    var form = document.getElementById("sign-form");
    if (!form || !window.SignaturePad) return;
    var canvas = form.querySelector("canvas"), box = canvas.parentNode;
    var ratio = Math.max(window.devicePixelRatio || 1, 1), w = box.clientWidth, h = 200;
    canvas.style.width = w + "px"; canvas.style.height = h + "px";
    canvas.width = w * ratio; canvas.height = h * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad = new SignaturePad(canvas, { minDistance: 5 });
    pad.addEventListener("beginStroke", function () {
      var err = form.querySelector("#strokes-err");
      if (err && err.textContent === form.dataset.emptyMsg) { err.hidden = true; canvas.removeAttribute("aria-invalid"); }
    });
    form.querySelector("[data-clear]").onclick = function () { pad.clear(); };
    var sel = form.querySelector("select[name=signer]");
    var show = function () {
      form.querySelectorAll("[data-for=unit]").forEach(function (el) { el.hidden = sel.value !== "unit"; });
      var proxy = sel.selectedOptions.length > 0 && sel.selectedOptions[0].hasAttribute("data-proxy");
      form.querySelectorAll("[data-for=proxy]").forEach(function (el) { el.hidden = !proxy; });
    };
    sel.onchange = show; show();
    focusFirstError(form.closest("#signatures") || form, ".error");
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
      // a finding made on the phone that the server refused is not on the record
      var st = li.hasAttribute("data-pending") && li.querySelector("[data-finding-state]");
      if (st && st.getAttribute("data-state") === "rejected") return;
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
  // runs before htmx reads the form (capture phase on the document); an empty pad stops here (not a refusal)
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.id !== "sign-form") return;
    var refusing = e.submitter && e.submitter.name === "refused";
    if (!refusing && pad && pad.isEmpty()) {
      e.preventDefault(); e.stopImmediatePropagation(); e.stopPropagation();
      emptyPad(form);
      return;
    }
    fill(form);
  }, true);
  document.addEventListener("htmx:configRequest", function (e) {
    var f = e.detail.elt.closest && e.detail.elt.closest("#sign-form");
    if (!f) return;
    fill(f);
    ["strokes", "width", "height", "seen"].forEach(function (k) {
      if (f.elements[k]) e.detail.parameters[k] = f.elements[k].value;
    });
  });
  // queued: clear the pad and move the menu on to the next signer (the strokes are kept until the server
  // answers, to be put back when it refuses them); refused: list the server's differences under the form
  document.addEventListener("suijian:queued", function (e) {
    if (e.detail.kind !== "sign") return;
    var form = document.getElementById("sign-form"), sel = form && form.querySelector("select[name=signer]");
    var refused = (e.detail.fields || []).some(function (p) { return p[0] === "refused" && p[1] === "1"; });
    lastSigned = { id: e.detail.id, signer: sel ? sel.value : null, data: pad && !pad.isEmpty() ? pad.toData() : null };
    if (pad) pad.clear();
    if (sel && (refused || lastSigned.data)) moveSigner(sel, lastSigned.signer);
  });
  document.addEventListener("suijian:rejected", function (e) {
    var form = document.getElementById("sign-form");
    if (e.detail.kind !== "sign" || !form) return;
    if (lastSigned && lastSigned.id === e.detail.id) { // the same signer signs again, from what they drew
      var sel = form.querySelector("select[name=signer]"), opt = sel && sel.querySelector('option[value="' + lastSigned.signer + '"]');
      if (opt) { opt.removeAttribute("data-signed"); sel.value = lastSigned.signer; sel.dispatchEvent(new Event("change")); }
      if (pad && lastSigned.data) pad.fromData(lastSigned.data);
      lastSigned = null;
    }
    var ul = form.querySelector("ul.sign-diff");
    if (!ul) { ul = document.createElement("ul"); ul.className = "sign-diff error"; form.appendChild(ul); }
    ul.textContent = "";
    (e.detail.error || "").split("；").forEach(function (line) {
      if (!line.trim()) return;
      var li = document.createElement("li");
      li.textContent = line.trim();
      ul.appendChild(li);
    });
    ul.setAttribute("tabindex", "-1"); ul.setAttribute("role", "alert");
    ul.scrollIntoView({ block: "center" }); ul.focus({ preventScroll: true });
  });
  document.addEventListener("htmx:afterSwap", function (e) { if (e.target.id === "signatures") setup(); });
  function init() {
    setup();
    // a record page rendered with errors (a form posted without JavaScript): the first one in view
    if (!document.querySelector("#signatures .error:not([hidden])")) focusFirstError(document.querySelector("[data-offline-page]"), ".error");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
