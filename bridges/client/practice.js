// tutord browser client, the Flashcards tab: add a card, then review what is due in the deck named
// in the form (every deck when it is empty; enrolling in a course makes a deck of its cards), one
// card at a time: front, reveal, rate Again/Hard/Good/Easy. Ratings go to POST /api/v1/reviews;
// the scheduler's answer says when the card comes back.
"use strict";

(() => {
  let queue = [];
  let current = null;
  let shownAt = 0;

  TD.$("card-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { front: TD.$("card-front").value, back: TD.$("card-back").value,
                   deck: TD.$("card-deck").value || "default" };
    const r = await TD.api("POST", "/api/v1/cards", body);
    TD.$("due-count").textContent = r.status === 201 ? "card added" : TD.errorText(r);
    if (r.status === 201) { TD.$("card-front").value = ""; TD.$("card-back").value = ""; }
  });

  function show() {
    const box = TD.$("review");
    current = queue.shift() || null;
    if (!current) {
      box.hidden = true;
      TD.$("due-count").textContent = "nothing due: well done";
      return;
    }
    box.hidden = false;
    TD.$("review-front").textContent = current.front;
    TD.$("review-back").textContent = current.back;
    TD.$("review-back").hidden = true;
    TD.$("review-show").hidden = false;
    TD.$("review-rate").hidden = true;
    TD.$("due-count").textContent = `${queue.length + 1} due`;
    shownAt = performance.now();
  }

  TD.$("due-load").addEventListener("click", async () => {
    const deck = TD.$("card-deck").value.trim();
    const r = await TD.api("GET", "/api/v1/reviews/due?limit=50" + (deck ? "&deck=" + encodeURIComponent(deck) : ""));
    if (r.status !== 200) { TD.$("due-count").textContent = TD.errorText(r); return; }
    queue = r.body.items || [];
    show();
  });

  TD.$("review-show").addEventListener("click", () => {
    TD.$("review-back").hidden = false;
    TD.$("review-show").hidden = true;
    TD.$("review-rate").hidden = false;
  });

  for (const b of document.querySelectorAll("#review-rate button")) {
    b.addEventListener("click", async () => {
      if (!current) return;
      const body = { card_id: current.id, rating: Number(b.dataset.rating),
                     duration_ms: Math.round(performance.now() - shownAt) };
      const r = await TD.api("POST", "/api/v1/reviews", body);
      const next = TD.$("review-next");
      if (r.status !== 200 && r.status !== 201) { next.textContent = TD.errorText(r); return; }
      next.textContent = `"${current.front}" comes back ${new Date(r.body.card.due).toLocaleString()}`;
      show();
    });
  }
})();
