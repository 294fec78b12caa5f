/* 开始检查 (templates/inspections/task.html, form #checkin): the phone's clock and position at the tap, through
 * the outbox (static/js/offline.js) like every other change, so a check-in made without signal is kept. */
(function () {
  "use strict";
  var f = document.getElementById("checkin"), st = document.getElementById("geo-status"), busy = false;
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
      set("location_error", ""); go();
    }, function (e) { set("location_error", CODES[e.code] || "unavailable"); go(); },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });
})();
