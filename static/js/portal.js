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
// A <button data-copy="#field"> copies that field's text (the share link shown once) and says so.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  if (!field) return;
  const done = () => { button.textContent = button.dataset.copied || button.textContent; };
  field.focus();
  field.select();
  let copied = false;
  try {
    copied = document.execCommand("copy"); // works in the click itself, on http:// too
  } catch (error) {
    copied = false;
  }
  if (copied) done();
  else if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, () => {});
});
document.addEventListener("focusin", (event) => {
  if (event.target.matches("[data-select-on-focus]")) event.target.select();
});
