// The preview page: view toggles kept across reloads, frames sized to the email, live reload.
"use strict";

const defaults = { layout: "both", width: "375", scheme: "light", tab: "email" };
const state = Object.assign({}, defaults, JSON.parse(sessionStorage.getItem("preview") || "{}"));

function apply() {
  document.body.dataset.layout = state.layout;
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
  if (phone.style.width !== state.width + "px") {
    phone.style.width = state.width + "px";
    requestAnimationFrame(() => fit(phone));
  }
  const src = "/email?scheme=" + state.scheme + "&v=" + document.body.dataset.render;
  for (const frame of [phone, desktop]) {
    if (frame.getAttribute("src") !== src) frame.setAttribute("src", src);
  }
}

function fit(frame) {
  const doc = frame.contentDocument;
  if (!doc || !doc.documentElement) return;
  frame.style.height = "0px";
  frame.style.height = doc.documentElement.scrollHeight + "px";
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
      (r) => item(r.email + ": " + r.detail + " (" + answer.provider + ")", r.sent ? "ok" : "failed")));
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
  for (const frame of document.querySelectorAll("iframe")) {
    frame.addEventListener("load", () => fit(frame));
  }
  window.addEventListener("resize", () => document.querySelectorAll("iframe").forEach(fit));
  const form = document.getElementById("send-test");
  if (form) sendTest(form);
  apply();
  listen();
});
