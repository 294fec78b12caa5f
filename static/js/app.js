// Behaviour every page may use, bound here because the Content-Security-Policy allows no inline handlers.
// [data-print]: a link or button that prints the page.
document.addEventListener("click", function (ev) {
  var el = ev.target.closest && ev.target.closest("[data-print]");
  if (!el) return;
  ev.preventDefault();
  window.print();
});
