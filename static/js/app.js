// Progressive enhancement only: every page works without this file.

// One live region for every notice (created, copied, revoked, errors). Announcements replace the
// text, so a screen reader reads each one; a notice that is not an error fades after a while.
const live = () => document.getElementById("live-region");
let liveTimer;
function announce(text, { error = false } = {}) {
  const region = live();
  if (!region || !text) return;
  clearTimeout(liveTimer);
  const notice = document.createElement("p");
  notice.textContent = text;
  notice.classList.toggle("is-error", error);
  region.replaceChildren(notice);
  if (!error) liveTimer = setTimeout(() => region.replaceChildren(), 6000);
}

// After a page load or an HTMX swap: move focus where the server asked (data-autofocus) and
// announce what it said (data-announce).
function settle(root) {
  const announced = root.querySelector?.("[data-announce]") || (root.matches?.("[data-announce]") ? root : null);
  if (announced) {
    announce(announced.dataset.announce);
    announced.removeAttribute("data-announce");
  }
  const target = root.matches?.("[data-autofocus]") ? root : root.querySelector?.("[data-autofocus]");
  if (target) {
    target.removeAttribute("data-autofocus");
    if (!target.hasAttribute("tabindex") && !target.matches("a, button, input, select, textarea")) {
      target.setAttribute("tabindex", "-1");
    }
    target.focus();
  }
}
document.addEventListener("DOMContentLoaded", () => settle(document));
document.addEventListener("htmx:afterSettle", (event) => settle(event.detail.elt));

// Copy buttons: <button data-copy="element-id">. Without the clipboard API (plain http on another
// host than localhost, an old browser) the text is selected and copied the old way; when that fails
// too, the button says so and the text stays selected for the person to copy. Never "Copied" falsely.
function selectText(source) {
  if (source.select) {
    source.select();
    return;
  }
  const range = document.createRange();
  range.selectNodeContents(source);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

async function copyText(source, text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    selectText(source);
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const text = "value" in source ? source.value : source.textContent;
  const copied = await copyText(source, text);
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  clearTimeout(button.copyTimer);
  if (copied) {
    button.textContent = "Copied";
    announce("Copied to the clipboard.");
  } else {
    selectText(source);
    button.textContent = "Select the text and copy it";
    announce("Couldn’t copy. Select the text and copy it.", { error: true });
  }
  button.copyTimer = setTimeout(() => { button.textContent = label; }, copied ? 2000 : 6000);
});

// Escape in a revoke confirmation is its Cancel.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const confirming = event.target.closest?.(".confirming, .confirm");
  confirming?.querySelector("[data-cancel]")?.click();
});

// HTMX failures are never silent: say what did not happen, in the live region. The form keeps
// what was typed (HTMX swaps nothing on an error).
function failed(event, fallback) {
  const source = event.detail.elt.closest("[data-error]");
  announce(source?.dataset.error || fallback, { error: true });
}
document.addEventListener("htmx:responseError", (event) =>
  failed(event, "Something went wrong on our side; nothing changed. Try again."));
document.addEventListener("htmx:sendError", (event) =>
  failed(event, "Couldn’t reach Tessera; nothing changed. Check your connection and try again."));

// Busy while a request is in flight: the button says so and cannot be pressed twice.
document.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.detail.elt.closest("form");
  const busy = form ? form.querySelector("[type=submit]") : event.detail.elt;
  if (!busy) return;
  busy.setAttribute("aria-busy", "true");
  if (busy.tagName === "BUTTON") busy.disabled = true;
});
document.addEventListener("htmx:afterRequest", () => {
  document.querySelectorAll("[aria-busy=true]").forEach((element) => {
    element.removeAttribute("aria-busy");
    if (element.tagName === "BUTTON") element.disabled = false;
  });
});

// Show a field only when another has a value: <div data-show-when="access=custom">.
function syncDependentFields(root) {
  root.querySelectorAll("[data-show-when]").forEach((element) => {
    const [name, value] = element.dataset.showWhen.split("=");
    const form = element.closest("form");
    const control = form?.elements[name];
    if (!control) return;
    element.hidden = control.value !== value;
  });
}

// The token form: only the chosen organization's projects, and which scopes its role allows.
// What the organization's policy allows of expiry, and when the token would expire, the server
// says: it renders the expiry fields again when they change (tokens/_expiry_fields.html).
function syncTokenForm(form) {
  const organization = form.elements.organization;
  if (organization) {
    const chosen = organization.selectedOptions?.[0] || organization.options?.[organization.selectedIndex];
    const orgId = organization.value;
    let shown = 0;
    form.querySelectorAll("[data-org]").forEach((option) => {
      const item = option.closest("label")?.parentElement || option;
      const mine = option.dataset.org === orgId;
      item.hidden = !mine;
      if (!mine) option.checked = false;
      shown += mine;
    });
    const none = form.querySelector("[data-no-projects]");
    if (none) none.hidden = shown > 0;
    const allowed = new Set((chosen?.dataset.allowedScopes || "").split(" ").filter(Boolean));
    const role = chosen?.dataset.role || "";
    form.querySelectorAll("input[name=scopes]").forEach((box) => {
      const label = box.closest("label");
      if (!label || !chosen?.dataset.allowedScopes) return;
      let note = label.querySelector(".not-granted");
      if (allowed.has(box.value)) {
        note?.remove();
      } else if (!note) {
        note = document.createElement("span");
        note.className = "not-granted";
        label.append(note);
      }
      if (note && !allowed.has(box.value)) note.textContent = `(your role, ${role}, does not allow this)`;
    });
  }
}

function syncForms(root) {
  syncDependentFields(root);
  root.querySelectorAll("form[data-token-form]").forEach(syncTokenForm);
  root.querySelectorAll("[data-js-hide]").forEach((element) => { element.hidden = true; });
}
document.addEventListener("change", (event) => {
  const form = event.target.form;
  if (!form) return;
  syncDependentFields(form);
  if (form.matches("[data-token-form]")) syncTokenForm(form);
  if (event.target.matches("[data-autosubmit]")) form.requestSubmit();
});
document.addEventListener("DOMContentLoaded", () => syncForms(document));
document.addEventListener("htmx:load", (event) => syncForms(event.detail.elt));

// allauth's passkey scripts report a failed or cancelled browser prompt as an event: say so on the
// page (mfa/webauthn/snippets/error.html) rather than only in the console.
document.addEventListener("allauth.error", (event) => {
  const box = document.querySelector("[data-passkey-error]");
  if (!box) return;
  event.preventDefault();
  const name = event.detail?.exception?.name;
  // An IP address cannot be a WebAuthn relying party: http://127.0.0.1 refuses every passkey.
  const onIp = /^[\d.]+$|^\[/.test(location.hostname);
  box.textContent = name === "SecurityError" && onIp
    ? `Passkeys need a name, not an IP address: open ${location.protocol}//localhost${location.port ? ":" + location.port : ""}${location.pathname} instead.`
    : name === "NotAllowedError"
    ? box.dataset.notAllowed || "The passkey prompt was closed or timed out. Try again when you are ready."
    : name === "InvalidStateError"
      ? "This device already has a passkey for your account."
      : "Your browser could not use a passkey here. Try again, or use another way.";
  box.hidden = false;
});
