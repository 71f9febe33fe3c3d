
/* The landing page: the sign-up form, and the small interactions of the optional sections. */

byId("signup-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const status = byId("signup-status");
  const email = byId("signup-email").value.trim();
  if (!looksLikeEmail(email)) {
    status.textContent = "Please enter a valid email address.";
    return;
  }
  /* A static site has no server: sign-ups are kept in this browser until a mailing service is wired up. */
  keepLocally(STORE + ":signups", { email: email, at: new Date().toISOString() });
  event.target.reset();
  status.textContent = "Thanks! We will write to " + email + " as soon as it is ready.";
});

/*@if pricing*/
const billingToggle = byId("billing-toggle");
billingToggle.addEventListener("click", () => {
  const yearly = billingToggle.getAttribute("aria-pressed") !== "true";
  billingToggle.setAttribute("aria-pressed", yearly ? "true" : "false");
  billingToggle.textContent = yearly ? "Show monthly prices" : "Show yearly prices";
  for (const price of document.querySelectorAll(".price")) {
    price.textContent = yearly ? price.dataset.yearly : price.dataset.monthly;
  }
});
/*@end*/
/*@if faq*/
for (const item of document.querySelectorAll(".faq-list details")) {
  item.addEventListener("toggle", () => {
    if (!item.open) {
      return;
    }
    for (const other of document.querySelectorAll(".faq-list details")) {
      if (other !== item) {
        other.open = false;
      }
    }
  });
}
/*@end*/
