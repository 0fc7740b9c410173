// Light or dark: the saved choice, else the system's. Runs before paint (no flash).
(function () {
  var saved = null;
  try { saved = localStorage.getItem("sy-theme"); } catch (e) { /* storage off */ }
  var dark = saved ? saved === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.setAttribute("data-theme", dark ? "dark" : "light");
})();
