// CoachCRM's page behaviour that used to sit in inline handlers (the CSP allows no inline script).
"use strict";
// A <select data-autosubmit> sends its form as soon as it changes (the language switch).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field.matches && field.matches("[data-autosubmit]") && field.form) {
    field.form.submit();
  }
});
// A <form data-confirm="…"> asks before it is sent (a change that can send deals back).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches && form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
// A <button data-copy="id"> copies the text of the element with that id (a secret shown once),
// and says so in its label (data-copied) for a moment.
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("button[data-copy]");
  const source = button && document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) {
    return;
  }
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    const label = button.textContent;
    button.textContent = button.dataset.copied || label;
    window.setTimeout(() => {
      button.textContent = label;
    }, 2000);
  });
});
