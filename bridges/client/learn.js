// tutord browser client, the Learn tab: the courses a learner can see, enrolment, a course's
// tree, and one item at a time — material as text, a code exercise with its editor (autosaved
// as a draft), submissions whose tests come back live over the WebSocket (grade.progress, then
// grade.result), questions answered in place, and the AI tutor whose answer streams word by
// word (llm.delta, then llm.done).
"use strict";

(() => {
  const el = TD.el;
  let course = null;          // the open course's tree
  let item = null;            // the open item
  let tutorSession = null;    // {id, item_id}
  let tutorBubble = null;     // the element the streaming answer goes into
  let draftVersion = null;
  let draftTimer = null;

  // Markdown, minimally and safely: headings, fenced code, paragraphs; all as text nodes.
  function markdown(text) {
    const out = el("div", { class: "md" });
    const lines = String(text || "").split("\n");
    let para = [];
    const flush = () => { if (para.length) { out.append(el("p", {}, para.join(" "))); para = []; } };
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      if (line.startsWith("```")) {
        flush();
        const code = [];
        for (i++; i < lines.length && !lines[i].startsWith("```"); i++) code.push(lines[i]);
        out.append(el("pre", {}, el("code", {}, code.join("\n"))));
      } else if (/^#{1,4} /.test(line)) {
        flush();
        const level = line.indexOf(" ");
        out.append(el("h" + Math.min(level + 2, 6), {}, line.slice(level + 1)));
      } else if (line.trim() === "") {
        flush();
      } else {
        para.push(line.trim());
      }
    }
    flush();
    return out;
  }

  function status(text, cls) { return el("p", { class: "status " + (cls || "") }, text); }

  async function loadCourses() {
    const list = TD.$("course-list");
    const r = await TD.api("GET", "/api/v1/courses?limit=100");
    list.replaceChildren();
    if (r.status !== 200) { list.append(el("li", { class: "bad" }, TD.errorText(r))); return; }
    for (const c of r.body.items || []) {
      list.append(el("li", {}, el("a", { href: "#", "data-course": c.id, onclick: (ev) => { ev.preventDefault(); openCourse(c.id); } }, c.title)));
    }
    if (!(r.body.items || []).length) list.append(el("li", { class: "muted" }, "no courses yet"));
  }

  async function openCourse(id) {
    const tree = TD.$("course-tree");
    const r = await TD.api("GET", "/api/v1/courses/" + id);
    if (r.status !== 200) { tree.replaceChildren(status(TD.errorText(r), "bad")); return; }
    course = r.body;
    const enrol = el("button", { type: "button", id: "enrol" }, "Enrol");
    const progress = el("span", { id: "course-progress", class: "muted" });
    enrol.addEventListener("click", async () => {
      const e = await TD.api("POST", `/api/v1/courses/${id}/enrolment`, {});
      progress.textContent = e.status === 200 || e.status === 201 ? "enrolled" : TD.errorText(e);
      refreshProgress();
    });
    const modules = el("ol", { class: "tree" });
    for (const m of course.modules || []) {
      const lessons = el("ol", {});
      for (const l of m.lessons || []) {
        const items = el("ul", {});
        for (const it of l.items || []) {
          items.append(el("li", { class: "kind-" + it.kind },
            el("a", { href: "#", "data-item": it.id, "data-kind": it.kind,
                      onclick: (ev) => { ev.preventDefault(); openItem(it.id); } }, it.title)));
        }
        lessons.append(el("li", {}, el("span", { class: "lesson" }, l.title), items));
      }
      modules.append(el("li", {}, el("strong", {}, m.title), lessons));
    }
    tree.replaceChildren(el("h2", {}, course.title), enrol, " ", progress, modules);
    refreshProgress();
  }

  async function refreshProgress() {
    if (!course) return;
    const p = TD.$("course-progress");
    const r = await TD.api("GET", `/api/v1/courses/${course.id}/progress`);
    if (r.status === 200 && p && typeof r.body.percent === "number") p.textContent = `${r.body.percent}% done`;
  }

  async function openItem(id) {
    const view = TD.$("item-view");
    const r = await TD.api("GET", "/api/v1/items/" + id);
    if (r.status !== 200) { view.replaceChildren(status(TD.errorText(r), "bad")); return; }
    item = r.body;
    tutorSession = null;
    const c = item.content || {};
    const parts = [el("h2", {}, item.title)];
    if (item.kind === "material") {
      for (const b of c.blocks || []) parts.push(markdown(b.text));
      if (c.conversation) parts.push(el("p", { class: "muted" }, `Conversation: ${c.conversation.scenario}`));
    } else if (item.kind === "exercise") {
      parts.push(markdown(c.instructions));
      const editor = el("textarea", { id: "code", spellcheck: "false", rows: 14 }, c.starter_code || "");
      editor.addEventListener("input", () => { clearTimeout(draftTimer); draftTimer = setTimeout(saveDraft, 800); });
      parts.push(editor,
        el("p", {}, el("button", { type: "button", id: "submit", onclick: submitCode }, "Run the tests"),
                   " ", el("span", { id: "draft-state", class: "muted" })),
        el("div", { id: "results" }));
      loadDraft(editor);
    } else if (item.kind === "question") {
      parts.push(markdown(c.prompt), questionForm(c), el("div", { id: "results" }));
    } else if (item.kind === "vocabulary") {
      parts.push(el("p", { class: "word" }, [c.article, c.word].filter(Boolean).join(" "),
                    c.plural ? ` (pl. ${c.plural})` : ""),
                 el("p", {}, c.translation || ""),
                 c.example ? el("p", { class: "muted" }, c.example) : null,
                 el("button", { type: "button", onclick: () => addCard(item.id) }, "Add to my flashcards"),
                 el("span", { id: "card-state", class: "muted" }));
    } else if (item.kind === "grammar") {
      parts.push(el("p", { class: "muted" }, `Level ${c.level || ""}`), markdown(c.explanation));
    }
    parts.push(tutorPanel());
    view.replaceChildren(...parts);
    refreshProgress();
  }

  // ---- questions ------------------------------------------------------------------------------
  function questionForm(c) {
    const form = el("form", { id: "answer-form" });
    if (c.type === "single" || c.type === "multiple") {
      (c.choices || []).forEach((choice, i) => {
        form.append(el("label", { class: "choice" },
          el("input", { type: c.type === "single" ? "radio" : "checkbox", name: "choice", value: String(i) }), " ", choice));
      });
    } else if (c.type === "subjective") {
      form.append(el("textarea", { name: "text", rows: 6 }));
    } else {
      form.append(el("input", { name: "text", id: "answer-text", autocomplete: "off" }));
    }
    form.append(el("button", { type: "submit" }, "Answer"));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      let answer;
      if (c.type === "single") {
        const x = form.querySelector("input[name=choice]:checked");
        answer = x ? Number(x.value) : null;
      } else if (c.type === "multiple") {
        answer = [...form.querySelectorAll("input[name=choice]:checked")].map((x) => Number(x.value));
      } else if (c.type === "numeric") {
        answer = Number(form.elements.text.value);
      } else {
        answer = form.elements.text.value;
      }
      const r = await TD.api("POST", "/api/v1/submissions?wait=true", { item_id: item.id, answer });
      const out = TD.$("results");
      if (r.status >= 300) { out.replaceChildren(status(TD.errorText(r), "bad")); return; }
      const v = r.body.verdict || r.body.status;
      out.replaceChildren(status(v === "accepted" ? "Right!" : `Not quite (${v})`, v === "accepted" ? "ok" : "bad"));
      refreshProgress();
    });
    return form;
  }

  // ---- code drafts ------------------------------------------------------------------------------
  async function loadDraft(editor) {
    draftVersion = null;
    const r = await TD.api("GET", `/api/v1/items/${item.id}/draft`);
    if (r.status === 200 && r.body && typeof r.body.code === "string") {
      editor.value = r.body.code;
      draftVersion = r.body.version;
      TD.$("draft-state").textContent = `draft v${draftVersion}`;
    }
  }

  async function saveDraft() {
    const editor = TD.$("code");
    if (!editor || !item) return;
    const body = { code: editor.value, version: draftVersion === null ? 0 : draftVersion };
    const r = await TD.api("PUT", `/api/v1/items/${item.id}/draft`, body);
    const state = TD.$("draft-state");
    if (r.status === 200 || r.status === 201) {
      draftVersion = r.body.version;
      if (state) state.textContent = `saved (v${draftVersion})`;
    } else if (state) {
      state.textContent = r.status === 409 ? "changed elsewhere: reload the item" : TD.errorText(r);
    }
  }

  // ---- submissions, graded live -------------------------------------------------------------------
  let watching = null;        // the submission id whose events we show
  const early = [];           // events that overtook the 202

  async function submitCode() {
    const out = TD.$("results");
    out.replaceChildren(status("queued…"), el("ol", { id: "test-results" }));
    watching = null;
    early.length = 0;
    const r = await TD.api("POST", "/api/v1/submissions", { item_id: item.id, code: TD.$("code").value });
    if (r.status !== 202 && r.status !== 200) { out.replaceChildren(status(TD.errorText(r), "bad")); return; }
    watching = r.body.id;
    for (const e of early.splice(0)) onGrade(e);
    if (r.body.status === "done") showVerdict(r.body);
  }

  function showVerdict(d) {
    const out = TD.$("results");
    if (!out) return;
    const ok = d.verdict === "accepted";
    const line = status(`${ok ? "All tests pass" : "Verdict: " + d.verdict}` +
                        (typeof d.score === "number" ? ` — score ${Math.round(d.score * 100)}%` : ""),
                        ok ? "ok" : "bad");
    line.id = "verdict";
    const old = TD.$("verdict");
    if (old) old.replaceWith(line); else out.prepend(line);
    if (out.firstChild && out.firstChild.textContent === "queued…") out.firstChild.remove();
    refreshProgress();
  }

  function onGrade(e) {
    const d = e.data || {};
    if (!watching) { early.push(e); return; }
    if (d.submission_id !== watching) return;
    if (e.type === "grade.progress") {
      const list = TD.$("test-results");
      const t = d.test || {};
      if (list) list.append(el("li", { class: t.verdict === "accepted" ? "ok" : "bad" },
        `${t.name || "test " + (d.index + 1)}: ${t.verdict}` + (typeof t.time_ms === "number" ? ` (${t.time_ms} ms)` : "")));
    } else if (e.type === "grade.result") {
      showVerdict(d);
    }
  }
  TD.on("grade.", onGrade);

  async function addCard(itemId) {
    const r = await TD.api("POST", "/api/v1/cards", { item_id: itemId });
    TD.$("card-state").textContent = r.status === 200 || r.status === 201 ? " added" : " " + TD.errorText(r);
  }

  // ---- the tutor -----------------------------------------------------------------------------------
  function tutorPanel() {
    const log = el("div", { id: "tutor-log", class: "chat" });
    const input = el("input", { id: "tutor-text", placeholder: "Ask the tutor…", maxlength: "4000", autocomplete: "off" });
    const form = el("form", { id: "tutor-form" }, input, el("button", { type: "submit" }, "Ask"));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      if (!tutorSession) {
        const body = { mode: item.kind === "material" && item.content && item.content.conversation ? "conversation" : "tutor" };
        if (body.mode === "conversation") body.context_id = item.id; else body.item_id = item.id;
        const s = await TD.api("POST", "/api/v1/tutor/sessions", body);
        if (s.status !== 201) { log.append(el("p", { class: "bad" }, TD.errorText(s))); return; }
        tutorSession = s.body;
      }
      log.append(el("p", { class: "me" }, text));
      tutorBubble = el("p", { class: "tutor streaming" });
      tutorBubble.dataset.pending = "1";
      log.append(tutorBubble);
      const r = await TD.api("POST", `/api/v1/tutor/sessions/${tutorSession.id}/messages`, { text });
      if (r.status !== 202) { tutorBubble.textContent = TD.errorText(r); tutorBubble.className = "bad"; return; }
      tutorBubble.dataset.message = r.body.message_id;
      // deltas that overtook the 202
      for (const e of pendingDeltas.splice(0)) onLlm(e);
    });
    return el("section", { class: "tutor-panel" }, el("h3", {}, "Tutor"), log, form);
  }

  const pendingDeltas = [];
  function onLlm(e) {
    const d = e.data || {};
    if (!tutorSession || d.session_id !== tutorSession.id || !tutorBubble) return;
    if (!tutorBubble.dataset.message) { pendingDeltas.push(e); return; }
    if (d.message_id !== tutorBubble.dataset.message) return;
    if (e.type === "llm.delta") {
      tutorBubble.append(document.createTextNode(d.text || ""));
    } else if (e.type === "llm.done") {
      tutorBubble.classList.remove("streaming");
      tutorBubble.classList.add("done");
      if (d.error) tutorBubble.append(el("span", { class: "bad" }, ` [${d.error.code}]`));
    }
  }
  TD.on("llm.", onLlm);

  TD.onSignedIn(loadCourses);
})();
