// Progressive enhancement only: every page works without this file.

// One live region for every notice (created, copied, revoked, errors). Announcements replace the
// text, so a screen reader reads each one; a notice that is not an error fades after a while.
// It is for screen readers only: what it says, the page shows in place (the panel, the row, the
// button's label, an error above its form), so nothing floats over the page or repeats it.
const live = () => document.getElementById("live-region");
let liveTimer;
// A quiet notice is read out but not shown: what is on the screen already says it (a button that
// now reads "Copied", a panel that took the focus), and a toast would only cover it.
function announce(text, { error = false, quiet = false } = {}) {
  const region = live();
  if (!region || !text) return;
  clearTimeout(liveTimer);
  const notice = document.createElement("p");
  notice.textContent = text;
  notice.classList.toggle("is-error", error);
  notice.classList.toggle("visually-hidden", quiet);
  region.replaceChildren(notice);
  if (!error) liveTimer = setTimeout(() => region.replaceChildren(), 6000);
}

// After a page load or an HTMX swap: move focus where the server asked (data-autofocus) and
// announce what it said (data-announce). data-autofocus="#id" asks for another element, such as
// a list's heading above the results a page swapped: it comes to the top of the screen.
function settle(root) {
  const announced = root.querySelector?.("[data-announce]") || (root.matches?.("[data-announce]") ? root : null);
  if (announced) {
    announce(announced.dataset.announce, { quiet: announced.hasAttribute("data-announce-quietly") });
    announced.removeAttribute("data-announce");
  }
  const asked = root.matches?.("[data-autofocus]") ? root : root.querySelector?.("[data-autofocus]");
  if (!asked) return;
  const elsewhere = asked.dataset.autofocus.startsWith("#");
  const target = elsewhere ? document.querySelector(asked.dataset.autofocus) : asked;
  asked.removeAttribute("data-autofocus");
  if (!target) return;
  if (!target.hasAttribute("tabindex") && !target.matches("a, button, input, select, textarea")) {
    target.setAttribute("tabindex", "-1");
  }
  if (elsewhere) target.scrollIntoView({ block: "start" });
  target.focus({ preventScroll: elsewhere });
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
    announce("Copied to the clipboard.", { quiet: true });
  } else {
    selectText(source);
    button.textContent = "Select the text and copy it";
    announce("Couldn’t copy. Select the text and copy it.", { error: true });
  }
  button.copyTimer = setTimeout(() => { button.textContent = label; }, copied ? 2000 : 6000);
});

// Settings navigation. A tab row scrolls sideways on a phone: show its current tab. After the
// organization switcher's link (#org-switcher), the focus is back on the switcher, where it was.
function showCurrentTabs(root) {
  root.querySelectorAll(".tabs").forEach((row) => {
    const current = row.querySelector("[aria-current=page]");
    if (!current || row.scrollWidth <= row.clientWidth) return;
    const start = current.offsetLeft - row.offsetLeft;
    if (start < row.scrollLeft || start + current.offsetWidth > row.scrollLeft + row.clientWidth) {
      row.scrollLeft = Math.max(0, start - (row.clientWidth - current.offsetWidth) / 2);
    }
  });
}
document.addEventListener("DOMContentLoaded", () => {
  showCurrentTabs(document);
  if (location.hash !== "#org-switcher") return;
  document.querySelector("#org-switcher > summary")?.focus({ preventScroll: true });
  history.replaceState(history.state, "", location.pathname + location.search);
});
// A disclosure menu (<details data-menu>) closes on Escape, back to its button, and on a click elsewhere.
function closeMenu(menu, { focus = false } = {}) {
  menu.open = false;
  if (focus) menu.querySelector("summary")?.focus();
}
document.addEventListener("keydown", (event) => {
  const menu = event.key === "Escape" && event.target.closest?.("details[data-menu][open]");
  if (menu) closeMenu(menu, { focus: true });
});
document.addEventListener("click", (event) => {
  document.querySelectorAll("details[data-menu][open]").forEach((menu) => {
    if (!menu.contains(event.target)) closeMenu(menu);
  });
});

// Escape in a revoke confirmation is its Cancel.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const confirming = event.target.closest?.(".confirming, .confirm");
  confirming?.querySelector("[data-cancel]")?.click();
});

// HTMX failures are never silent: say what did not happen, in the live region and in place, just
// above the form's buttons, where the eye is. The form keeps what was typed (HTMX swaps nothing).
function failed(event, fallback) {
  const source = event.detail.elt.closest("[data-error]");
  const text = source?.dataset.error || fallback;
  announce(text, { error: true });
  if (!source) return;
  let shown = source.querySelector(":scope > [data-failure]");
  if (!shown) {
    shown = document.createElement("p");
    shown.className = "alert alert-danger";
    shown.dataset.failure = "";
  }
  let buttons = source.querySelector("[type=submit]");
  while (buttons && buttons.parentElement !== source) buttons = buttons.parentElement;
  source.insertBefore(shown, buttons);
  shown.textContent = text;
  shown.scrollIntoView({ block: "nearest" });
}
document.addEventListener("htmx:beforeRequest", (event) => {
  event.detail.elt.closest("[data-error]")?.querySelector(":scope > [data-failure]")?.remove();
});
document.addEventListener("htmx:responseError", (event) =>
  failed(event, "Something went wrong on our side; nothing changed. Try again."));
document.addEventListener("htmx:sendError", (event) =>
  failed(event, "Couldn’t reach Tessera; nothing changed. Check your connection and try again."));

// Busy while a request is in flight: the button says so and cannot be pressed twice. It is
// aria-disabled, not disabled, so it keeps the focus: after a failure the person is where they
// were, with the error announced, and can press it again.
document.addEventListener("htmx:beforeRequest", (event) => {
  const form = event.detail.elt.closest("form");
  const pressed = document.activeElement;
  const submitter = form && pressed?.form === form && pressed.matches("[type=submit]") ? pressed : null;
  const busy = form ? submitter || form.querySelector("[type=submit]") : event.detail.elt;
  if (!busy) return;
  busy.setAttribute("aria-busy", "true");
  if (busy.tagName === "BUTTON") busy.setAttribute("aria-disabled", "true");
});
document.addEventListener("htmx:afterRequest", () => {
  document.querySelectorAll("[aria-busy=true]").forEach((element) => {
    element.removeAttribute("aria-busy");
    element.removeAttribute("aria-disabled");
  });
});
// A second press while the first is on its way goes nowhere (htmx would queue it, and send it
// once the first is done): stopped before htmx hears of it.
function whileBusy(event) {
  const busy = event.type === "submit"
    ? event.target.querySelector?.("[aria-busy=true]")
    : event.target.closest?.("[aria-busy=true]");
  if (!busy) return;
  event.preventDefault();
  event.stopPropagation();
}
document.addEventListener("submit", whileBusy, true);
document.addEventListener("click", whileBusy, true);

// Tabs (the agent panel's clients): a [data-tabs] box holds a hidden [data-tab-list] of buttons,
// each naming its panel in data-tab. Without this file every panel shows under its own heading;
// with it, a WAI-ARIA tablist (https://www.w3.org/WAI/ARIA/apg/patterns/tabs/): one tab in the
// Tab order, arrow keys, Home and End move between tabs and show theirs.
function setUpTabs(root) {
  root.querySelectorAll?.("[data-tabs]:not([data-tabs-ready])").forEach((box) => {
    const list = box.querySelector("[data-tab-list]");
    const tabs = [...list.querySelectorAll("[data-tab]")];
    const panelOf = (tab) => document.getElementById(tab.dataset.tab);
    list.setAttribute("role", "tablist");
    tabs.forEach((tab) => {
      const panel = panelOf(tab);
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", panel.id);
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      panel.querySelector("[data-tab-heading]")?.setAttribute("hidden", "");
    });
    const select = (chosen) => {
      tabs.forEach((tab) => {
        const on = tab === chosen;
        tab.setAttribute("aria-selected", String(on));
        tab.tabIndex = on ? 0 : -1;
        panelOf(tab).hidden = !on;
      });
    };
    list.addEventListener("click", (event) => {
      const tab = event.target.closest("[data-tab]");
      if (tab) select(tab);
    });
    list.addEventListener("keydown", (event) => {
      const at = tabs.indexOf(event.target);
      const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (at < 0 || to === undefined) return;
      event.preventDefault();
      const tab = tabs[(to + tabs.length) % tabs.length];
      select(tab);
      tab.focus();
    });
    select(tabs.find((tab) => tab.hasAttribute("data-selected")) || tabs[0]);
    list.hidden = false;
    box.setAttribute("data-tabs-ready", "");
  });
}
document.addEventListener("DOMContentLoaded", () => setUpTabs(document));
document.addEventListener("htmx:load", (event) => setUpTabs(event.detail.elt));

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
