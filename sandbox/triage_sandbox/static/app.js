// Slack sandbox UI: renders the stand-in's state (/ui/state) and sends clicks, selects and
// slash commands back through it (/ui/*), which signs them and posts them to the app.
// Every text arrives as tokens (sandbox/triage_sandbox/mrkdwn.py) and is put in the page with
// textContent: nothing from a message is ever parsed as HTML.
"use strict";

(() => {
  const POLL_MS = 1000;
  const ui = {
    state: null,
    etag: "",
    channel: decodeURIComponent(location.hash.slice(1)) || null,
    user: localStorage.getItem("sandbox.user") || "U1",
    expanded: new Set(),
    dismissed: new Set(),
    showActivity: false,
    polling: null,
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  // ------------------------------------------------------------------ tokens -> DOM
  function tokensTo(parent, tokens) {
    for (const tok of tokens || []) parent.append(tokenNode(tok));
    return parent;
  }

  function tokenNode(tok) {
    switch (tok.t) {
      case "text":
        return document.createTextNode(tok.s);
      case "b":
        return tokensTo(el("strong"), tok.c);
      case "i":
        return tokensTo(el("em"), tok.c);
      case "s":
        return tokensTo(el("del"), tok.c);
      case "code":
        return el("code", { class: "inline-code", text: tok.s });
      case "pre":
        return el("pre", { class: "code-block", text: tok.s });
      case "link": {
        const ok = /^(https?:\/\/|mailto:)/i.test(tok.url);
        const a = el("a", ok ? { href: tok.url, target: "_blank", rel: "noopener noreferrer" } : {});
        return tokensTo(a, tok.c);
      }
      case "mention": {
        const me = tok.id === ui.user || tok.id === "here" || tok.id === "channel";
        return el("span", { class: me ? "mention me" : "mention", text: tok.s, dataset: { id: tok.id } });
      }
      case "emoji":
        return el("span", { class: "emoji", title: `:${tok.name}:`, text: tok.s });
      default:
        return document.createTextNode("");
    }
  }

  function rich(tag, cls, tokens) {
    return tokensTo(el(tag, { class: cls }), tokens);
  }

  // ------------------------------------------------------------------ blocks -> DOM
  function renderBlocks(blocks, ctx) {
    const box = el("div", { class: "blocks" });
    for (const b of blocks) box.append(renderBlock(b, ctx));
    return box;
  }

  function renderBlock(b, ctx) {
    switch (b.type) {
      case "header":
        return rich("div", "block header", b.text);
      case "section": {
        const sec = el("div", { class: "block section" });
        const body = el("div", { class: "section-body" });
        if (b.text) body.append(rich("div", "mrkdwn", b.text));
        if (b.fields && b.fields.length) {
          const grid = el("div", { class: "fields" });
          for (const f of b.fields) grid.append(rich("div", "field mrkdwn", f));
          body.append(grid);
        }
        sec.append(body);
        if (b.accessory) sec.append(el("div", { class: "accessory" }, renderElement(b.accessory, b, ctx)));
        return sec;
      }
      case "context": {
        const c = el("div", { class: "block context" });
        for (const e of b.elements) {
          if (e.image !== undefined) c.append(el("span", { class: "image-alt", text: `[image: ${e.image}]` }));
          else c.append(rich("span", "context-item mrkdwn", e.text));
        }
        return c;
      }
      case "actions": {
        const row = el("div", { class: "block actions" });
        for (const e of b.elements) row.append(renderElement(e, b, ctx));
        return row;
      }
      case "divider":
        return el("hr", { class: "block divider" });
      case "image":
        return el("div", { class: "block image-alt", text: `[image: ${b.title || b.alt}]` });
      case "markdown":
      case "rich_text":
        return rich("div", "block section mrkdwn", b.text);
      case "input":
        return el("div", { class: "block input" }, el("label", { text: b.label }),
          b.element ? renderElement(b.element, b, ctx) : null);
      default:
        return el("div", { class: "block unsupported muted", text: `[${b.raw_type} block: not shown by the sandbox]` });
    }
  }

  function renderElement(e, block, ctx) {
    const data = { actionId: e.action_id || "", blockId: block.block_id || "" };
    const disabled = !ctx.interactive;
    const title = disabled ? "The sandbox cannot send actions from this message" : null;
    if (e.type === "button") {
      const cls = "btn" + (e.style ? " " + e.style : "");
      const btn = el("button", { type: "button", class: cls, disabled, title, dataset: data, text: e.text });
      btn.addEventListener("click", () => {
        if (e.confirm && !window.confirm(`${e.confirm.title}\n\n${e.confirm.text}`)) return;
        if (e.url) window.open(e.url, "_blank", "noopener,noreferrer");
        send("click", { channel: ctx.channel, ts: ctx.ts, action_id: e.action_id, value: e.value }, btn);
      });
      return btn;
    }
    if (e.type === "static_select" || e.type === "overflow" || e.type === "radio_buttons") {
      const sel = el("select", { class: "select", disabled, title, dataset: data, "aria-label": e.placeholder || e.action_id });
      sel.append(el("option", { value: "", disabled: true, selected: !e.initial, text: e.placeholder || "Select an item" }));
      for (const o of e.options) {
        sel.append(el("option", { value: o.value, selected: o.value === e.initial, text: o.text }));
      }
      sel.addEventListener("change", () => {
        if (e.confirm && !window.confirm(`${e.confirm.title}\n\n${e.confirm.text}`)) return;
        send("select", { channel: ctx.channel, ts: ctx.ts, action_id: e.action_id, value: sel.value }, sel);
      });
      return sel;
    }
    if (e.type === "users_select") {
      const sel = el("select", { class: "select users", disabled, title, dataset: data, "aria-label": e.placeholder || e.action_id });
      sel.append(el("option", { value: "", disabled: true, selected: !e.initial, text: e.placeholder || "Select a user" }));
      for (const u of ui.state.users.filter((x) => !x.is_bot)) {
        sel.append(el("option", { value: u.id, selected: u.id === e.initial, text: `${u.name} (${u.real_name})` }));
      }
      sel.addEventListener("change", () => {
        send("select_user", { channel: ctx.channel, ts: ctx.ts, action_id: e.action_id, selected_user: sel.value }, sel);
      });
      return sel;
    }
    return el("span", { class: "unsupported muted", text: `[${e.raw_type}${e.placeholder ? ": " + e.placeholder : ""}]` });
  }

  // ------------------------------------------------------------------ messages
  function fmtTime(ts) {
    const d = new Date(parseFloat(ts) * 1000);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function avatar(name, isBot) {
    const letter = (name || "?").slice(0, 1).toUpperCase();
    return el("div", { class: "avatar" + (isBot ? " bot" : ""), "aria-hidden": "true", text: letter });
  }

  function messageBody(m, ctx) {
    const body = el("div", { class: "body" });
    if (m.deleted) {
      body.append(el("div", { class: "muted", text: "This message was deleted." }));
      return body;
    }
    if (m.blocks.length) body.append(renderBlocks(m.blocks, ctx));
    else body.append(rich("div", "mrkdwn text", m.text));
    return body;
  }

  function renderMessage(m, channel, isReply) {
    const ctx = { channel: channel.id, ts: m.ts, interactive: !m.deleted };
    const node = el("div", {
      class: "message" + (isReply ? " reply" : "") + (m.deleted ? " deleted" : ""),
      dataset: { ts: m.ts, channel: channel.id },
    });
    const head = el("div", { class: "meta" },
      el("span", { class: "author", text: m.user_name }),
      m.is_bot ? el("span", { class: "app-badge", text: "APP" }) : null,
      el("time", { class: "time", datetime: new Date(parseFloat(m.ts) * 1000).toISOString(), text: fmtTime(m.ts) }),
      m.edited ? el("span", { class: "edited muted", text: "(edited)" }) : null,
      m.broadcast ? el("span", { class: "muted", text: "also sent to the channel" }) : null,
      m.pinned ? el("span", { class: "pinned", text: "📌 pinned" }) : null,
    );
    const main = el("div", { class: "content" }, head, messageBody(m, ctx));
    for (const f of m.files || []) {
      main.append(el("details", { class: "file", dataset: { file: f.id } },
        el("summary", { text: `📄 ${f.title} (${f.name})` }),
        el("pre", { class: "file-preview", text: f.preview })));
    }
    if (m.reactions.length) {
      const r = el("div", { class: "reactions" });
      for (const x of m.reactions) r.append(el("span", { class: "reaction", title: `:${x.name}:`, text: `${x.emoji} ${x.count}` }));
      main.append(r);
    }
    if (!isReply && m.replies.length) {
      const open = ui.expanded.has(channel.id + "/" + m.ts);
      const n = m.replies.length;
      const toggle = el("button", {
        type: "button",
        class: "thread-toggle",
        "aria-expanded": open ? "true" : "false",
        text: open ? `Hide ${n} ${n === 1 ? "reply" : "replies"}` : `${n} ${n === 1 ? "reply" : "replies"}`,
      });
      toggle.addEventListener("click", () => {
        const key = channel.id + "/" + m.ts;
        if (ui.expanded.has(key)) ui.expanded.delete(key);
        else ui.expanded.add(key);
        render();
      });
      main.append(toggle);
      if (open) {
        const thread = el("div", { class: "thread" });
        for (const r of m.replies) thread.append(renderMessage(r, channel, true));
        main.append(thread);
      }
    }
    node.append(avatar(m.user_name, m.is_bot), main);
    return node;
  }

  function renderEphemeral(e, channel) {
    const ctx = { channel: channel.id, ts: e.ts, interactive: false };
    const key = channel.id + "/" + e.ts;
    const dismiss = el("button", { type: "button", class: "linkish", text: "Dismiss" });
    dismiss.addEventListener("click", () => { ui.dismissed.add(key); render(); });
    const head = el("div", { class: "meta" },
      el("span", { class: "author", text: ui.state.bot.name }),
      el("span", { class: "app-badge", text: "APP" }),
      el("time", { class: "time", text: fmtTime(e.ts) }),
    );
    return el("div", { class: "message ephemeral", dataset: { ts: e.ts, channel: channel.id } },
      avatar(ui.state.bot.name, true),
      el("div", { class: "content" },
        el("div", { class: "only-you" }, el("span", { text: "\u{1F441} Only visible to you" }), dismiss),
        head, messageBody(e, ctx)));
  }

  // ------------------------------------------------------------------ page
  function currentChannel() {
    const chans = ui.state.channels;
    let c = chans.find((x) => x.id === ui.channel);
    if (!c) c = chans.find((x) => !x.is_im && x.is_member) || chans[0];
    return c;
  }

  function renderSidebar(current) {
    const list = $("channel-list");
    const dms = $("dm-list");
    list.replaceChildren();
    dms.replaceChildren();
    for (const c of ui.state.channels) {
      const n = c.messages.length;
      const a = el("a", {
        href: "#" + encodeURIComponent(c.id),
        class: "chan" + (c.id === current.id ? " active" : "") + (c.is_member || c.is_im ? "" : " not-member"),
        dataset: { channel: c.id },
        "aria-current": c.id === current.id ? "page" : null,
      }, el("span", { class: "chan-name", text: c.label }), n ? el("span", { class: "count", text: String(n) }) : null);
      (c.is_im ? dms : list).append(el("li", {}, a));
    }
  }

  function renderMessages(channel) {
    const box = $("messages");
    const nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    const items = [];
    for (const m of channel.messages) items.push({ key: "m" + m.ts, ts: m.ts, m, eph: false });
    for (const e of channel.ephemerals) {
      if (e.user !== ui.user || ui.dismissed.has(channel.id + "/" + e.ts)) continue;
      items.push({ key: "e" + e.ts, ts: e.ts, m: e, eph: true });
    }
    items.sort((a, b) => parseFloat(a.ts) - parseFloat(b.ts));
    const existing = new Map();
    for (const child of Array.from(box.children)) existing.set(child.dataset.key, child);
    const keep = new Set();
    items.forEach((item, i) => {
      const open = ui.expanded.has(channel.id + "/" + item.ts);
      const sig = JSON.stringify([item.m, open, ui.user, channel.id]);
      let node = existing.get(item.key);
      if (!node || node.dataset.sig !== sig) {
        const fresh = item.eph ? renderEphemeral(item.m, channel) : renderMessage(item.m, channel, false);
        fresh.dataset.key = item.key;
        fresh.dataset.sig = sig;
        if (node) node.replaceWith(fresh);
        node = fresh;
      }
      keep.add(item.key);
      if (box.children[i] !== node) box.insertBefore(node, box.children[i] || null);
    });
    for (const [key, node] of existing) if (!keep.has(key)) node.remove();
    if (!items.length && !box.querySelector(".empty")) {
      box.append(el("div", { class: "empty muted", dataset: { key: "empty" }, text: "No messages yet." }));
    }
    if (nearBottom) box.scrollTop = box.scrollHeight;
  }

  function renderActivity() {
    const aside = $("activity");
    aside.hidden = !ui.showActivity;
    $("toggle-activity").textContent = ui.showActivity ? "Hide activity" : "Show activity";
    if (!ui.showActivity) return;
    const calls = $("calls");
    calls.replaceChildren();
    for (const c of ui.state.activity.calls.slice().reverse()) {
      const what = c.ok ? "ok" : `${c.status} ${c.error || ""}`.trim();
      calls.append(el("li", { class: c.ok ? "ok" : "fail" },
        el("code", { text: c.method }), " ", el("span", { text: what + (c.injected ? " (injected)" : "") })));
    }
    const dels = $("deliveries");
    dels.replaceChildren();
    for (const d of ui.state.activity.deliveries.slice().reverse()) {
      dels.append(el("li", { class: d.status === 200 ? "ok" : "fail" },
        el("code", { text: d.what || d.kind }), " ", el("span", { text: `${d.status} in ${d.seconds}s` })));
    }
  }

  function renderTop() {
    $("team").textContent = `${ui.state.team.domain} · Slack sandbox`;
    const status = $("bot-status");
    if (ui.state.bot_url) {
      status.className = "bot-status on";
      status.textContent = `app: ${ui.state.bot_url}`;
    } else {
      status.className = "bot-status off";
      status.textContent = "no app connected (set bot_url): clicks and commands cannot be sent";
    }
    const who = $("whoami");
    const people = ui.state.users.filter((u) => !u.is_bot);
    if (!people.some((u) => u.id === ui.user) && people.length) ui.user = people[0].id;
    const sig = JSON.stringify(people);
    if (who.dataset.sig !== sig) {
      who.replaceChildren(...people.map((u) => el("option", { value: u.id, text: `${u.name} ${u.id}` })));
      who.dataset.sig = sig;
    }
    who.value = ui.user;
  }

  function render() {
    if (!ui.state) return;
    renderTop();
    const channel = currentChannel();
    if (!channel) return;
    ui.channel = channel.id;
    document.title = `${channel.label} · Slack sandbox`;
    $("channel-title").textContent = channel.label;
    const notes = [];
    if (!channel.is_member && !channel.is_im) notes.push("the bot is not in this channel");
    if (channel.is_archived) notes.push("archived");
    if (channel.topic) notes.push("topic: " + channel.topic);
    if (channel.purpose) notes.push(channel.purpose);
    if (channel.members.length) notes.push("members: " + channel.members.join(", "));
    if (channel.pins.length) notes.push(`📌 ${channel.pins.length} pinned`);
    $("channel-note").textContent = notes.join(" · ");
    $("messages").dataset.channel = channel.id;
    renderSidebar(channel);
    renderMessages(channel);
    renderActivity();
  }

  // ------------------------------------------------------------------ network
  async function poll() {
    try {
      const r = await fetch(`/ui/state?since=${encodeURIComponent(ui.etag)}`, { cache: "no-store" });
      const data = await r.json();
      if (!data.unchanged) {
        ui.etag = data.etag;
        ui.state = data;
        render();
      }
      document.body.classList.remove("offline");
    } catch (err) {
      document.body.classList.add("offline");
    }
  }

  function schedule() {
    clearTimeout(ui.polling);
    ui.polling = setTimeout(async () => { await poll(); schedule(); }, POLL_MS);
  }

  function toast(text, isError) {
    const t = $("toast");
    t.textContent = text;
    t.className = isError ? "error" : "";
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
  }

  async function send(kind, args, control) {
    if (control) control.classList.add("busy");
    try {
      const r = await fetch(`/ui/${kind}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ...args, user: ui.user }),
      });
      const data = await r.json();
      if (!data.ok) {
        toast(data.error || `the app answered HTTP ${data.status}: ${data.body || ""}`, true);
      }
      return data;
    } catch (err) {
      toast(`the sandbox did not answer: ${err}`, true);
      return null;
    } finally {
      if (control) control.classList.remove("busy");
      await poll();
    }
  }

  // ------------------------------------------------------------------ wiring
  window.addEventListener("hashchange", () => {
    ui.channel = decodeURIComponent(location.hash.slice(1));
    $("messages").replaceChildren();
    render();
    $("messages").scrollTop = $("messages").scrollHeight;
  });
  $("whoami").addEventListener("change", (ev) => {
    ui.user = ev.target.value;
    localStorage.setItem("sandbox.user", ui.user);
    render();
  });
  $("toggle-activity").addEventListener("click", () => {
    ui.showActivity = !ui.showActivity;
    render();
  });
  $("composer").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("command-input");
    const m = input.value.trim().match(/^(\/[\w-]+)\s*([\s\S]*)$/);
    if (!m) {
      toast("Type a slash command, e.g. /triage help", true);
      return;
    }
    const data = await send("command", { channel: ui.channel, command: m[1], text: m[2] }, input);
    if (data && data.ok) input.value = "";
  });

  poll().then(schedule);
})();
