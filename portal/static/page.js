// What the portal's scripts share: the page's settings (#portal-config),
// its message and status lines, the bridge's errors in the page's words,
// and JSON posts to the portal with the session's CSRF token.
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("portal-config").textContent);
  var msg = cfg.messages;
  var message = document.getElementById("message");
  var status = document.getElementById("status");

  window.PortalPage = {
    cfg: cfg,
    // onSay runs after an error is shown (the page lets the user try again).
    onSay: null,
    say: function (text) {
      message.textContent = text;
      message.className = "message error";
      message.hidden = false;
      status.hidden = true;
      if (window.PortalPage.onSay) window.PortalPage.onSay();
    },
    working: function (text) {
      message.hidden = true;
      status.textContent = text;
      status.hidden = !text;
    },
    bridgeError: function (e) {
      if (e && e.code === "wrong_pin") {
        return typeof e.triesLeft === "number" && e.triesLeft >= 0
          ? msg.wrong_pin.replace("{n}", String(e.triesLeft))
          : msg.wrong_pin_unknown;
      }
      return (e && msg[e.code]) || msg.bad_answer;
    },
    post: function (path, body) {
      return fetch(path, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": cfg.csrf },
        body: JSON.stringify(body)
      }).then(function (r) {
        return r.json().then(function (data) { data.ok = r.ok; return data; });
      });
    }
  };
})();
