// The navigation's search box: "/" focuses it (unless you are typing), Escape closes the answer.
(function () {
  const box = document.getElementById("nav-search");
  const answer = document.getElementById("search-results");
  if (!box || !answer) return;
  document.addEventListener("keydown", function (event) {
    const tag = (event.target.tagName || "").toLowerCase();
    const typing = tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable;
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      box.focus();
      box.select();
    } else if (event.key === "Escape" && event.target === box) {
      answer.innerHTML = "";
      box.blur();
    }
  });
})();
