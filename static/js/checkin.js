/* 开始检查 (templates/inspections/task.html, form #checkin): the phone's clock and position at the tap, through
 * the outbox (static/js/offline.js) like every other change, so a check-in made without signal is kept.
 * A position farther from the unit (data-unit-lat/-lon, WGS-84) than the organisation's radius (data-radius) needs
 * a reason: the field #far-reason-field appears with the message (data-far-msg) and takes the focus, offline too;
 * the server applies the same rule (webapp.inspections.checkin) and refuses a far check-in without one. Only codes
 * go to the server for a missing position (location_error), never the browser's own (English) message. */
(function () {
  "use strict";
  var f = document.getElementById("checkin"), st = document.getElementById("geo-status"), busy = false, fresh = false;
  if (!f) return;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  // ISO 8601 with the phone's offset, e.g. 2026-12-02T09:14:05+08:00
  function isoLocal(d) {
    var off = -d.getTimezoneOffset(), sign = off >= 0 ? "+" : "-", a = Math.abs(off);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" +
      pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + sign + pad(Math.floor(a / 60)) + ":" + pad(a % 60);
  }
  var CODES = { 1: "denied", 2: "unavailable", 3: "timeout" };
  function set(name, value) { if (f.elements[name]) f.elements[name].value = value; }
  var farField = document.getElementById("far-reason-field"), farErr = document.getElementById("far_reason-err");
  // great-circle distance in metres between two WGS-84 points (as webapp/inspections/geo.py distance_m)
  function distance(lat1, lon1, lat2, lon2) {
    var r = Math.PI / 180, p1 = lat1 * r, p2 = lat2 * r, dp = p2 - p1, dl = (lon2 - lon1) * r;
    var h = Math.pow(Math.sin(dp / 2), 2) + Math.cos(p1) * Math.cos(p2) * Math.pow(Math.sin(dl / 2), 2);
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
  }
  function askReason(message) {
    if (!farField) return;
    farField.hidden = false;
    farField.classList.add("has-error");
    if (farErr) { farErr.textContent = message; farErr.hidden = false; }
    var ta = f.elements.far_reason;
    ta.setAttribute("aria-invalid", "true");
    farField.scrollIntoView({ block: "center" });
    ta.focus();
  }
  // true when the position is beyond the radius and no reason was typed yet (the field is then shown)
  function needsReason(lat, lon) {
    var ulat = parseFloat(f.dataset.unitLat), ulon = parseFloat(f.dataset.unitLon), radius = parseFloat(f.dataset.radius);
    if (isNaN(ulat) || isNaN(ulon) || isNaN(radius) || !f.elements.far_reason) return false;
    var d = distance(lat, lon, ulat, ulon);
    if (d <= radius || f.elements.far_reason.value.trim().length >= 2) return false;
    askReason((f.dataset.farMsg || "").split("{d}").join(String(Math.round(d))).split("{r}").join(String(radius)));
    return true;
  }
  // refused by the server (e.g. sent from the day's pack without a reason): its reason next to the field
  document.addEventListener("suijian:rejected", function (e) {
    if (e.detail.kind !== "start") return;
    busy = false;
    if (st) st.textContent = "";
    if (f.dataset.unitLat && /原因/.test(e.detail.error || "")) askReason(e.detail.error);
  });
  f.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (busy) return;
    busy = true;
    var off = window.SuiJianOffline;
    set("device_time", isoLocal(new Date()));
    set("offline", off && !off.online() ? "1" : "");
    var go = function () {
      if (!off) { f.submit(); return; }
      off.ready().then(function (ok) {
        if (!ok) { f.submit(); return; }
        return off.enqueueForm(f).then(function (entry) {
          // online the server answers at once; offline (or slow) the record page comes from the day's pack
          var wait = new Promise(function (resolve) { setTimeout(resolve, 8000); });
          return Promise.race([off.syncNow(), wait]).then(function () { return off.entries(); }).then(function (list) {
            var now = list.filter(function (e) { return e.id === entry.id; })[0];
            if (now && now.state === "rejected") { busy = false; return; } // the reason is shown in the form
            location.href = entry.page;
          });
        });
      }).catch(function () { f.submit(); });
    };
    if (!navigator.geolocation) { set("location_error", "unsupported"); return go(); }
    if (st) st.textContent = st.dataset.locating;
    navigator.geolocation.getCurrentPosition(function (p) {
      set("lat", p.coords.latitude); set("lon", p.coords.longitude); set("accuracy", p.coords.accuracy);
      set("location_error", "");
      if (st) st.textContent = "";
      if (needsReason(p.coords.latitude, p.coords.longitude)) { busy = false; fresh = true; return; }
      go();
    }, function (e) { if (st) st.textContent = ""; set("location_error", CODES[e.code] || "unavailable"); go(); },
    // after a far position the next tap locates afresh (the phone may have got a better fix meanwhile)
    { enableHighAccuracy: true, timeout: 15000, maximumAge: fresh ? 0 : 60000 });
  });
})();
