// Small behaviours of every page, kept out of the HTML so the Content-Security-Policy can refuse
// inline scripts: a <select data-submit-on-change> submits its form; a <form data-confirm="…">
// asks before it is sent; after HTMX puts a form back with errors, the first wrong field gets
// the focus (its error is announced through aria-describedby).
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-submit-on-change]");
  if (field && field.form) field.form.requestSubmit();
});
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
function focusFirstError(root) {
  const wrong = root.querySelector(".has-error input, .has-error select, .has-error textarea");
  if (wrong) wrong.focus();
}
document.addEventListener("htmx:afterSettle", () => focusFirstError(document));
document.addEventListener("DOMContentLoaded", () => focusFirstError(document));
