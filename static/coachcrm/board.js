// Pipeline board: drag a deal card onto another column to move it. The move goes through the
// same endpoint as the card's buttons (htmx swaps the board back in, with the gate's refusal on
// the card when there is one); the buttons stay for keyboards and phones.
(function () {
  "use strict";
  var dragged = null;

  function columnOf(element) {
    return element && element.closest ? element.closest(".board-column[data-stage]") : null;
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".deal-card[data-move-url]");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    document.querySelectorAll(".board-column.drop-target").forEach(function (column) {
      column.classList.remove("drop-target");
    });
  });

  document.addEventListener("dragover", function (event) {
    var column = columnOf(event.target);
    if (!dragged || !column || column.dataset.stage === dragged.dataset.stage) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    column.classList.add("drop-target");
  });

  document.addEventListener("dragleave", function (event) {
    var column = columnOf(event.target);
    if (column && !column.contains(event.relatedTarget)) column.classList.remove("drop-target");
  });

  // After a move the board is swapped in anew: say what happened, and put the focus back on
  // the moved card (else it falls to the top of the page).
  document.addEventListener("htmx:afterSwap", function () {
    var board = document.getElementById("board");
    if (!board || !board.dataset.moved) return;
    var status = document.getElementById("board-status");
    if (status) status.textContent = board.dataset.announce || "";
    var card = document.getElementById("deal-" + board.dataset.moved);
    if (card) {
      card.setAttribute("tabindex", "-1");
      card.focus();
    }
  });

  // A folded closed column stays folded across moves (htmx redraws the board) and visits.
  var FOLDED = "coachcrm.board.folded";
  function folded() {
    try {
      return JSON.parse(window.localStorage.getItem(FOLDED) || "[]");
    } catch (error) {
      return [];
    }
  }
  function restoreFolds() {
    var stages = folded();
    document.querySelectorAll("details[data-fold]").forEach(function (fold) {
      if (stages.indexOf(fold.dataset.fold) !== -1) fold.open = false;
    });
  }
  document.addEventListener(
    "toggle",
    function (event) {
      var fold = event.target;
      if (!fold.matches || !fold.matches("details[data-fold]")) return;
      var stages = folded().filter(function (stage) {
        return stage !== fold.dataset.fold;
      });
      if (!fold.open) stages.push(fold.dataset.fold);
      try {
        window.localStorage.setItem(FOLDED, JSON.stringify(stages));
      } catch (error) {
        /* private mode: the fold lasts until the next redraw */
      }
    },
    true
  );
  restoreFolds();
  document.body.addEventListener("htmx:afterSwap", restoreFolds);

  document.addEventListener("drop", function (event) {
    var column = columnOf(event.target);
    if (!dragged || !column || column.dataset.stage === dragged.dataset.stage) return;
    event.preventDefault();
    column.classList.remove("drop-target");
    // The card is the source: htmx takes the CSRF header from the page's hx-headers.
    htmx.ajax("POST", dragged.dataset.moveUrl, {
      source: dragged,
      target: "#board",
      swap: "outerHTML",
      values: { stage: column.dataset.stage },
    });
  });
})();
