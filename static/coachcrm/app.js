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
