// Small behaviours of every page, kept out of the HTML so the Content-Security-Policy can refuse
// inline scripts: a <select data-submit-on-change> submits its form; a <form data-confirm="…">
// asks before it is sent.
document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-submit-on-change]");
  if (field && field.form) field.form.requestSubmit();
});
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
