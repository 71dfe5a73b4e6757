// The preview page: view toggles kept across reloads, frames that scroll inside, live reload.
"use strict";

const defaults = { layout: "both", width: "375", scheme: "light", tab: "email", images: "on", zoom: "100", edition: "" };
const state = Object.assign({}, defaults, JSON.parse(sessionStorage.getItem("preview") || "{}"));

function apply() {
  document.body.dataset.layout = state.layout;
  document.body.dataset.scheme = state.scheme;
  const frames = document.getElementById("panel-email");
  if (frames) frames.style.zoom = String(Number(state.zoom) / 100);
  for (const button of document.querySelectorAll("[data-set]")) {
    const on = state[button.dataset.set] === button.dataset.value;
    button.setAttribute(button.getAttribute("role") === "tab" ? "aria-selected" : "aria-pressed", String(on));
  }
  for (const panel of document.querySelectorAll("[role=tabpanel]")) {
    panel.hidden = panel.id !== "panel-" + state.tab;
  }
  const phone = document.getElementById("frame-phone");
  const desktop = document.getElementById("frame-desktop");
  if (!phone) return;
  phone.style.width = state.width + "px";
  const query = "scheme=" + state.scheme + "&images=" + state.images +
    "&v=" + document.body.dataset.render;
  const src = "/email?" + query + "&edition=" + encodeURIComponent(state.edition);
  for (const frame of [phone, desktop]) {
    if (frame.getAttribute("src") !== src) frame.setAttribute("src", src);
  }
  for (const frame of document.querySelectorAll("iframe.edition-frame")) {
    const marked = "/email?" + query + "&mark=1&edition=" + encodeURIComponent(frame.dataset.edition);
    if (frame.getAttribute("src") !== marked) frame.setAttribute("src", marked);
  }
}

function copyHtml(button) {
  button.addEventListener("click", async () => {
    await navigator.clipboard.writeText(document.querySelector("pre.source").textContent);
    button.textContent = "Copied";
  });
}

function listen() {
  const live = document.getElementById("live");
  const source = new EventSource("/events");
  source.onopen = () => { live.textContent = "live"; live.classList.remove("offline"); };
  source.onerror = () => { live.textContent = "reconnecting"; live.classList.add("offline"); };
  source.onmessage = async (event) => {
    const change = JSON.parse(event.data);
    if (String(change.render) !== document.body.dataset.render) {
      location.reload();
    } else if (String(change.version) !== document.body.dataset.version) {
      const response = await fetch("/report", { cache: "no-store" });
      document.getElementById("report").innerHTML = await response.text();
      document.body.dataset.version = String(change.version);
    }
  };
}

function sendTest(form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const list = document.getElementById("send-results");
    list.replaceChildren(item("Sending…", ""));
    const response = await fetch("/send-test", { method: "POST", body: new FormData(form) });
    const answer = await response.json();
    if (answer.error) {
      list.replaceChildren(item(answer.error, "failed"));
      return;
    }
    list.replaceChildren(...answer.results.map(
      (r) => item(r.email + (answer.editions > 1 ? " [" + r.edition + "]" : "") + ": " + r.detail +
        " (" + answer.provider + ")", r.sent ? "ok" : "failed")));
  });
}

function item(text, kind) {
  const li = document.createElement("li");
  li.textContent = text;
  li.className = kind;
  return li;
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-set]")) {
    button.addEventListener("click", () => {
      state[button.dataset.set] = button.dataset.value;
      sessionStorage.setItem("preview", JSON.stringify(state));
      apply();
    });
  }
  const copy = document.getElementById("copy-html");
  if (copy) copyHtml(copy);
  const form = document.getElementById("send-test");
  if (form) sendTest(form);
  apply();
  listen();
});
