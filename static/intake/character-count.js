// The character count under a long answer's box, as the GOV.UK Design System's character count:
// how many characters are left, or how many too many. The limit is never enforced by cutting
// the text; the server refuses a longer answer with a message.
(function () {
  "use strict";

  function plural(n, word) {
    return n.toLocaleString("en-GB") + " " + word + (n === 1 ? "" : "s");
  }

  document.querySelectorAll("[data-character-limit]").forEach(function (box) {
    var limit = Number(box.getAttribute("data-character-limit"));
    var count = document.querySelector('[data-character-count-for="' + box.id + '"]');
    if (!count || !limit) return;
    // What the screen reader hears is updated after typing pauses, not on every key.
    var spoken = document.createElement("div");
    spoken.className = "visually-hidden";
    spoken.setAttribute("aria-live", "polite");
    count.after(spoken);
    var described = (box.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (described.indexOf(count.id) === -1) described.push(count.id);
    box.setAttribute("aria-describedby", described.join(" "));
    var timer = null;

    function text() {
      var left = limit - box.value.length;
      return left >= 0
        ? "You have " + plural(left, "character") + " remaining"
        : "You have " + plural(-left, "character") + " too many";
    }
    function update() {
      count.textContent = text();
      count.classList.toggle("character-count-over", box.value.length > limit);
      clearTimeout(timer);
      timer = setTimeout(function () { spoken.textContent = text(); }, 1000);
    }
    count.setAttribute("aria-hidden", "true");
    count.textContent = text();
    count.classList.toggle("character-count-over", box.value.length > limit);
    box.addEventListener("input", update);
  });
})();
