// The browser's half of the checks the server makes: the password rules
// (CheckPassword in password.go) shown ticked as the user types, the
// submit button held until they hold; and the size of a parcel before it
// is uploaded. The server checks everything again.
"use strict";

function passwordProblems(form) {
  const pw = form.querySelector("input[name=password]").value;
  const again = form.querySelector("input[name=again]").value;
  const min = Number(form.dataset.min), max = Number(form.dataset.max);
  const chars = Array.from(pw);
  const low = pw.toLowerCase();
  const email = (form.dataset.email || "").toLowerCase();
  const code = (form.dataset.code || "").toLowerCase();
  const personal = [email, email.split("@")[0], code, code.replace(/-/g, "")]
    .some((s) => s.length >= 4 && low.includes(s));
  return {
    short: chars.length < min || chars.length > max,
    repeated: chars.length > 0 && chars.every((c) => c === chars[0]),
    personal: personal,
    mismatch: pw === "" || pw !== again,
  };
}

function watchPassword(form) {
  const button = form.querySelector("button[type=submit]");
  const update = () => {
    const problems = passwordProblems(form);
    let ok = true;
    for (const li of form.querySelectorAll(".rules li")) {
      const bad = problems[li.dataset.rule];
      li.classList.toggle("ok", !bad);
      li.classList.toggle("bad", bad);
      ok = ok && !bad;
    }
    button.disabled = !ok;
  };
  form.addEventListener("input", update);
  update();
}

function watchSize(form) {
  const input = form.querySelector("input[type=file]");
  const max = Number(form.dataset.max);
  input.addEventListener("change", () => {
    let total = 0;
    for (const f of input.files) total += f.size;
    input.setCustomValidity(total > max ? input.dataset.tooLarge : "");
  });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form.password-rules")) watchPassword(form);
  for (const form of document.querySelectorAll("form#send-form")) watchSize(form);
});
