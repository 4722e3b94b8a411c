// Progressive enhancement only: every page works without this file.

// Copy buttons: <button data-copy="element-id">.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const text = "value" in source ? source.value : source.textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    source.select?.();
    document.execCommand("copy");
  }
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = label; }, 2000);
});

// Show a field only when another has a value: <div data-show-when="access=custom">.
function syncDependentFields(root) {
  root.querySelectorAll("[data-show-when]").forEach((element) => {
    const [name, value] = element.dataset.showWhen.split("=");
    const form = element.closest("form");
    if (!form) return;
    const control = form.elements[name];
    const current = control instanceof RadioNodeList || control?.tagName === "SELECT"
      ? control.value
      : control?.value;
    element.hidden = current !== value;
  });
}
document.addEventListener("change", (event) => {
  if (event.target.form) syncDependentFields(event.target.form);
});
document.addEventListener("DOMContentLoaded", () => syncDependentFields(document));
document.addEventListener("htmx:load", (event) => syncDependentFields(event.detail.elt));

// After a token is created, move focus to the panel that shows it.
document.addEventListener("htmx:afterSettle", () => {
  const panel = document.getElementById("new-token-panel");
  if (panel && !panel.dataset.focused) {
    panel.dataset.focused = "1";
    panel.focus();
  }
});

// allauth's passkey scripts report a failed or cancelled browser prompt as an event: say so on the
// page (mfa/webauthn/snippets/error.html) rather than only in the console.
document.addEventListener("allauth.error", (event) => {
  const box = document.querySelector("[data-passkey-error]");
  if (!box) return;
  event.preventDefault();
  const name = event.detail?.exception?.name;
  box.textContent = name === "NotAllowedError"
    ? "The passkey prompt was closed or timed out. Try again when you are ready."
    : name === "InvalidStateError"
      ? "This device already has a passkey for your account."
      : "Your browser could not use a passkey here. Try again, or use another way.";
  box.hidden = false;
});
