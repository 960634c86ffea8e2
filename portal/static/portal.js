// The certificate page: the holder's certificate through Paraphe's bridge
// (paraphe-bridge.js, served by the bridge itself), the token to the
// portal. Messages come in the page's language from the portal.
(function () {
  "use strict";
  var P = window.PortalPage, cfg = P.cfg, msg = cfg.messages;
  var say = P.say, working = P.working, bridgeError = P.bridgeError, post = P.post;
  var chosen = null;

  var portal = {
    lastToken: null,
    // submit hands a token to the portal and follows its answer.
    submit: function (token) {
      portal.lastToken = token;
      return post("/api/token", { purpose: cfg.mode, token: token }).then(function (res) {
        if (res.ok) { window.location.assign(res.next); return; }
        say(res.message);
      });
    },
    // authenticate asks the portal for a challenge and Paraphe for a token.
    authenticate: function (certificate) {
      return post("/api/challenge", { purpose: cfg.mode }).then(function (res) {
        if (!res.ok) { say(msg.bad_answer); return; }
        working(msg.asking);
        var purpose = cfg.mode === "signin" ? "signin" : "register";
        return bridge.authenticate(res.challenge, { purpose: purpose, certificate: certificate })
          .then(portal.submit, function (e) { say(bridgeError(e)); });
      });
    }
  };
  window.ParaphePortal = portal;

  if (typeof window.ParapheBridge !== "function") {
    say(msg.unreachable);
    return;
  }
  var bridge = new window.ParapheBridge(cfg.bridge);

  function showCertificates(list) {
    var box = document.getElementById("cert-list");
    box.textContent = "";
    list.forEach(function (c, i) {
      var label = document.createElement("label");
      label.className = "cert";
      var radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "certificate";
      radio.value = c.id;
      radio.addEventListener("change", function () { chosen = c.id; document.getElementById("use").disabled = false; });
      var text = document.createElement("span");
      text.textContent = c.name + (c.title ? ", " + c.title : "") + (c.member_number ? " (" + c.member_number + ")" : "") +
        " · " + c.issuer + " · " + msg.expires + " " + new Date(c.not_after).toLocaleDateString(cfg.lang);
      label.appendChild(radio);
      label.appendChild(text);
      box.appendChild(label);
      if (list.length === 1 && i === 0) { radio.checked = true; chosen = c.id; }
    });
    document.getElementById("certs").hidden = false;
    var use = document.getElementById("use");
    use.hidden = false;
    use.disabled = chosen === null;
  }

  if (cfg.mode === "signin") {
    var signin = document.getElementById("signin");
    signin.disabled = false;
    signin.addEventListener("click", function () { portal.authenticate(""); });
  } else {
    var choose = document.getElementById("choose");
    choose.disabled = false;
    choose.addEventListener("click", function () {
      working(msg.asking);
      bridge.certificates().then(function (res) {
        working("");
        showCertificates(res.certificates);
      }, function (e) { say(bridgeError(e)); });
    });
    document.getElementById("use").addEventListener("click", function () {
      if (!chosen) { say(msg.none_chosen); return; }
      portal.authenticate(chosen);
    });
  }
})();
