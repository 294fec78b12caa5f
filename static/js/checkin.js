// 开始检查 (templates/inspections/task.html): record the position with the check-in, or why there is none.
(function () {
  var f = document.getElementById("checkin"), st = document.getElementById("geo-status"), sent = false;
  if (!f) return;
  f.addEventListener("submit", function (ev) {
    if (sent) return;
    ev.preventDefault();
    var go = function () { sent = true; f.submit(); };
    if (!navigator.geolocation) { f.location_error.value = "no geolocation"; return go(); }
    st.textContent = st.dataset.locating;
    navigator.geolocation.getCurrentPosition(function (p) {
      f.lat.value = p.coords.latitude; f.lon.value = p.coords.longitude; f.accuracy.value = p.coords.accuracy; go();
    }, function (e) { f.location_error.value = e.message || ("code " + e.code); go(); },
    {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  });
})();
